import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { PeerStatus } from '@ffmesh/protocol'
import { multiTrackMkv } from './fixtures/media.js'
import { createNetnsLab, isRoot, listLabNamespaces, NETNS_SKIP_MESSAGE, type NetnsLab } from './helpers/netns.js'
import {
  ffmeshJson,
  makeDataDir,
  startNodeProcess,
  waitForJobEnd,
  waitUntil,
  type NodeProcess
} from './helpers/node-harness.js'
import { paced } from './helpers/pace.js'

if (!isRoot()) console.warn(`test/mesh-netns-nodes.test.ts ${NETNS_SKIP_MESSAGE}`)

describe.skipIf(!isRoot())('full nodes on three LAN hosts (network namespaces)', () => {
  let lab: NetnsLab | undefined
  const nodes: NodeProcess[] = []
  const dirs: string[] = []
  afterAll(async () => {
    await Promise.all(nodes.map(n => n.stop()))
    if (lab != null) {
      await lab.cleanup()
      expect(await listLabNamespaces(lab.runId)).toEqual([])
    }
    await Promise.all(dirs.map(d => fs.rm(d, { recursive: true, force: true })))
  })

  it('discover each other by mDNS with no addresses configured and convert a job submitted on one', async () => {
    lab = await createNetnsLab({ hosts: 3 })
    let keyFile: string | undefined
    for (const [i, host] of lab.hosts.entries()) {
      // No bootstrap, no peer addresses: listening on every interface, mDNS does the rest.
      const dir = await makeDataDir(
        { name: `host-${i + 1}`, mesh: true, slots: 1, segmentSeconds: 1, listen: ['/ip4/0.0.0.0/tcp/0'] },
        keyFile
      )
      keyFile ??= path.join(dir, 'swarm.key')
      dirs.push(dir)
      nodes.push(await startNodeProcess(dir, { wrap: ['ip', 'netns', 'exec', host.ns] }))
    }
    await waitUntil(async () => {
      const seen = await Promise.all(dirs.map(d => ffmeshJson<PeerStatus[]>(['peers'], { dataDir: d })))
      return seen.every(list => list.length >= 2)
    }, 'every host to see the other two', paced(90_000))

    const media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-netns-'))
    dirs.push(media)
    const { id } = await ffmeshJson<{ id: string }>(
      ['submit', await multiTrackMkv(media), '--profile', 'h264', '--out', path.join(media, 'out')],
      { dataDir: dirs[0] }
    )
    const job = await waitForJobEnd(dirs[0], id, paced(180_000))
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    const peers = await ffmeshJson<PeerStatus[]>(['peers'], { dataDir: dirs[0] })
    const remote = job.units.filter(u => peers.some(p => p.id === u.worker))
    expect(remote.length, 'units converted on other hosts').toBeGreaterThan(0)
  })
})
