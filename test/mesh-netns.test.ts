import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createNetnsLab, isRoot, listLabNamespaces, NETNS_SKIP_MESSAGE, type NetnsLab } from './helpers/netns.js'
import { paced } from './helpers/pace.js'

const NODE_SCRIPT = fileURLToPath(new URL('./helpers/mesh-node.mjs', import.meta.url))

interface NodeView { peerId?: string, peers: string[] }

if (!isRoot()) console.warn(`test/mesh-netns.test.ts ${NETNS_SKIP_MESSAGE}`)

describe.skipIf(!isRoot())('mesh across network namespaces (mDNS, no addresses configured)', () => {
  let lab: NetnsLab | undefined
  let tmp: string | undefined
  afterAll(async () => {
    if (lab != null) {
      await lab.cleanup()
      expect(await listLabNamespaces(lab.runId)).toEqual([])
    }
    if (tmp != null) await fs.rm(tmp, { recursive: true, force: true })
  })

  const waitUntil = async (check: () => boolean, what: string, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  it('three mesh-only processes in three namespaces discover each other, lose a cut host and find it again', async () => {
    lab = await createNetnsLab({ hosts: 3 })
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-netns-'))
    const swarmKey = randomBytes(32).toString('hex')
    const views: NodeView[] = []
    lab.hosts.forEach((host, k) => {
      const view: NodeView = { peers: [] }
      views.push(view)
      const child = lab!.spawnIn(host, process.execPath, [NODE_SCRIPT], {
        FFMESH_SWARM_KEY: swarmKey,
        FFMESH_DIR: path.join(tmp!, `n${k}`),
        FFMESH_NAME: `host-${k}`
      })
      createInterface({ input: child.stdout! }).on('line', line => {
        const msg = JSON.parse(line) as { event: string; peerId?: string; peers?: string[] }
        if (msg.event === 'started') view.peerId = msg.peerId
        if (msg.event === 'peers') view.peers = msg.peers ?? []
      })
      child.stderr!.on('data', (d: Buffer) => {
        process.stderr.write(`[${host.ns}] ${d.toString()}`)
      })
    })
    await waitUntil(() => views.every(v => v.peerId != null), 'the nodes to start', paced(30_000))
    const others = (v: NodeView): string[] =>
      views
        .filter(o => o !== v)
        .map(o => o.peerId!)
        .sort()
    await waitUntil(
      () => views.every(v => JSON.stringify(v.peers) === JSON.stringify(others(v))),
      'every node to see exactly the other two',
      paced(30_000)
    )

    // Unplug host 3: the others stop hearing its adverts and drop it; plug it back and it returns.
    const third = views[2].peerId!
    await lab.cut(lab.hosts[2])
    await waitUntil(
      () => !views[0].peers.includes(third) && !views[1].peers.includes(third),
      'the cut host to drop out',
      paced(30_000)
    )
    await lab.restore(lab.hosts[2])
    await waitUntil(
      () => views[0].peers.includes(third) && views[1].peers.includes(third),
      'the restored host to come back',
      paced(60_000)
    )
  })
})
