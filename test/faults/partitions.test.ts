import { randomInt } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { JobStatus } from '@ffmesh/protocol'
import {
  convertingOn,
  createFaultCluster,
  FAULT_TIMING,
  ffmpegFailing,
  makeClip,
  outputFiles,
  videoFrames,
  type FaultCluster,
  finishCluster
} from '../helpers/faults-cluster.js'
import { createNetnsLab, isRoot, listLabNamespaces, NETNS_SKIP_MESSAGE, type NetnsLab } from '../helpers/netns.js'
import { waitUntil } from '../helpers/node-harness.js'
import { paced } from '../helpers/pace.js'

/**
 * Faults where the network is the point: every node runs in its own network namespace on a
 * private bridge (a LAN host), and `lab.cut` unplugs a host's cable while its node keeps running.
 */
if (!isRoot()) console.warn(`test/faults/partitions.test.ts ${NETNS_SKIP_MESSAGE}`)

/** The chaos phase: faults are injected for this long, then the mesh heals. */
const CHAOS_MS = 45_000
const CHAOS_JOBS = 20

let media: string
let lab: NetnsLab | undefined
let cluster: FaultCluster | undefined

beforeAll(async () => { media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-faults-netns-')) })
afterEach(async (ctx) => {
  await finishCluster(cluster, ctx.task.result?.state === 'fail')
  cluster = undefined
  if (lab != null) {
    const runId = lab.runId
    await lab.cleanup()
    lab = undefined
    expect(await listLabNamespaces(runId)).toEqual([])
  }
})
afterAll(async () => { await fs.rm(media, { recursive: true, force: true }) })

async function startLabCluster (
  names: string[],
  settings: { segmentSeconds: number },
  extra: Record<string, Record<string, unknown>> = {}
): Promise<FaultCluster> {
  lab = await createNetnsLab({ hosts: names.length })
  const hosts = lab.hosts
  cluster = await createFaultCluster(
    names.map((name, k) => ({
      name,
      ...settings,
      extra: extra[name],
      listen: ['/ip4/0.0.0.0/tcp/0'],
      wrap: ['ip', 'netns', 'exec', hosts[k].ns]
    }))
  )
  for (const n of names) await cluster.start(n)
  await cluster.waitMesh()
  return cluster
}

/** A small seeded generator (mulberry32), so a failing chaos run can be replayed with its seed. */
function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe.skipIf(!isRoot())('fault scenarios: partitions (network namespaces)', () => {
  it("2. a worker's link cut mid-unit for three lease lengths, then restored: the job completes once, no duplicate output", async () => {
    const source = await makeClip(media, 'cut.mp4', 12)
    // The owner's ffmpeg lacks libx264, so the video units go to the two workers.
    const c = await startLabCluster(
      ['owner', 'victim', 'spare'],
      { segmentSeconds: 2 },
      { owner: { ffmpeg: { ffmpegPath: await ffmpegFailing(media, 'ffmpeg-no-x264', ['libx264'], true) } } }
    )
    const victim = c.node('victim')
    const id = await c.submit('owner', source, 'slow264')
    const owner = c.node('owner')
    // Cut the cable the moment the victim reports converting: its result is still to be sent.
    const grant = await waitUntil(
      async () => convertingOn(owner, id, [victim.peerId]),
      'the victim to convert a unit',
      paced(90_000)
    )
    await lab!.cut(lab!.hosts[1])
    const cutUnits = [grant.index as number]
    await new Promise(resolve => setTimeout(resolve, 3 * FAULT_TIMING.leaseSeconds * 1000))
    await lab!.restore(lab!.hosts[1])
    const job = await c.waitJob('owner', id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    // Each unit verified exactly once, whatever the victim delivers late.
    for (const u of job.units) {
      expect(
        owner.events.filter(e => e.type === 'unit:verified' && e.jobId === id && e.index === u.index),
        `unit ${u.index}`
      ).toHaveLength(1)
    }
    for (const index of cutUnits) {
      expect(owner.events.some(e => e.type === 'unit:released' && e.jobId === id && e.index === index)).toBe(true)
    }
    // The victim's late copy, if it finished one, is acknowledged and dropped, not left behind.
    await waitUntil(
      async () => (await fs.readdir(path.join(victim.dataDir, 'outbox')).catch(() => [])).length === 0,
      "the victim's outbox to empty",
      paced(30_000)
    )
    const fromVictim = owner.events
      .filter(e => e.peerId === victim.peerId && e.time > grant.time)
      .map(e => `${e.type}${e.index != null ? ` #${e.index}` : ''}`)
    console.log(
      `scenario 2: unit ${JSON.stringify(cutUnits)} was converting on the cut worker; the owner saw from it afterwards: ${JSON.stringify(fromVictim)}; held and delivered late: ${c.logged('victim', 'held result delivered').length}`
    )
    expect(await outputFiles(owner.outDir)).toHaveLength(1)
    expect(await outputFiles(victim.outDir)).toEqual([])
    expect(await videoFrames(job.output as string)).toBe(await videoFrames(source))
  })

  it(
    `10. chaos: ${CHAOS_JOBS} short jobs on 4 nodes while nodes are killed, restarted and partitioned at random; every job done exactly once`,
    async () => {
      const seed = Number(process.env.FFMESH_CHAOS_SEED ?? randomInt(2 ** 31))
      console.log(`scenario 10: chaos seed ${seed} (replay with FFMESH_CHAOS_SEED=${seed})`)
      const random = seededRandom(seed)
      const names = ['n1', 'n2', 'n3', 'n4']
      const c = await startLabCluster(names, { segmentSeconds: 1 })
      const jobs: Array<{ id: string; node: string; source: string }> = []
      for (let k = 0; k < CHAOS_JOBS; k++) {
        const node = names[k % names.length]
        // Distinct content per job: identical segments shared by two jobs hit a blob-lifetime bug
        // of their own (see the report), which is not what this scenario is about.
        const source = await makeClip(media, `chaos-${String(k).padStart(2, '0')}.mp4`, 2 + (k % 3), '320x240', k + 1)
        jobs.push({ id: await c.submit(node, source, 'h264'), node, source })
      }

      const cut = new Set<string>()
      const actions: string[] = []
      const until = Date.now() + CHAOS_MS
      while (Date.now() < until) {
        await new Promise(resolve => setTimeout(resolve, 1000 + Math.floor(random() * 3000)))
        const name = names[Math.floor(random() * names.length)]
        const n = c.node(name)
        const host = lab!.hosts[names.indexOf(name)]
        const roll = random()
        if (n.proc == null) {
          await c.start(name)
          actions.push(`start ${name}`)
        } else if (cut.has(name)) {
          await lab!.restore(host)
          cut.delete(name)
          actions.push(`restore ${name}`)
        } else if (roll < 0.35) {
          await c.stop(name, 'SIGKILL')
          actions.push(`kill -9 ${name}`)
        } else if (roll < 0.5) {
          await c.stop(name, 'SIGTERM')
          actions.push(`stop ${name}`)
        } else if (roll < 0.85) {
          await lab!.cut(host)
          cut.add(name)
          actions.push(`cut ${name}`)
        }
      }
      // Heal: every cable back in, every node running.
      for (const name of cut) await lab!.restore(lab!.hosts[names.indexOf(name)])
      for (const name of names) if (c.node(name).proc == null) await c.start(name)
      console.log(`scenario 10: actions ${actions.join(', ')}`)

      const finals = new Map<string, JobStatus>()
      await waitUntil(
        async () => {
          for (const j of jobs) {
            if (finals.has(j.id)) continue
            const s = await c.status(j.node, j.id).catch(() => null)
            if (s != null && ['done', 'failed', 'cancelled'].includes(s.state)) finals.set(j.id, s)
          }
          return finals.size === jobs.length
        },
        'every chaos job to end',
        paced(240_000)
      ).catch(() => {})

      let done = 0
      let lost = 0
      let duplicated = 0
      let failedVerification = 0
      const everyOutput = (
        await Promise.all(c.nodes.map(async n => (await outputFiles(n.outDir)).map(f => path.join(n.outDir, f))))
      ).flat()
      for (const j of jobs) {
        const s = finals.get(j.id)
        if (s?.state !== 'done') {
          lost++
          continue
        }
        done++
        const stem = path.basename(j.source, '.mp4') + '.'
        const files = everyOutput.filter(f => path.basename(f).startsWith(stem))
        if (files.length !== 1) duplicated += Math.max(0, files.length - 1)
        if (files.length === 0 || path.dirname(files[0]) !== c.node(j.node).outDir) {
          lost++
          continue
        }
        if ((await videoFrames(files[0])) !== (await videoFrames(j.source))) failedVerification++
      }
      const tally = {
        submitted: jobs.length,
        done,
        lost,
        'duplicated outputs': duplicated,
        'failed verification': failedVerification
      }
      console.log(`scenario 10 tally (seed ${seed}): ${JSON.stringify(tally)}`)
      if (lost > 0) {
        console.log(
          `not done: ${JSON.stringify(jobs.filter(j => finals.get(j.id)?.state !== 'done').map(j => ({ id: j.id, node: j.node, state: finals.get(j.id)?.state ?? 'unknown', error: finals.get(j.id)?.error })))}`
        )
      }
      expect(tally).toEqual({
        submitted: CHAOS_JOBS,
        done: CHAOS_JOBS,
        lost: 0,
        'duplicated outputs': 0,
        'failed verification': 0
      })
      expect(everyOutput).toHaveLength(CHAOS_JOBS)
    },
    CHAOS_MS + paced(360_000)
  )
})
