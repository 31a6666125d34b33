import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  convertingOn,
  createFaultCluster,
  FAULT_TIMING,
  faultSuite,
  ffmpegFailing,
  outputFiles,
  videoFrames,
  type FaultCluster
} from '../helpers/faults-cluster.js'
import { waitUntil } from '../helpers/node-harness.js'
import { paced } from '../helpers/pace.js'

/**
 * The submitting node (the job's owner) goes away mid-job for "minutes": here 20 s, ten lease
 * lengths of 2 s, which is what matters to the engine (every lease it granted has long expired
 * when it returns). Workers finish their units meanwhile, hold the results (log + outbox/), and
 * hand them over when the owner is back; those units are not converted again.
 */
const AWAY_MS = 20_000

const suite = faultSuite('owner', { name: 'away.mp4', seconds: 12 })

interface Held { worker: string, index: number }

/** Units the workers held for the absent owner, from their log lines. */
function heldUnits (c: FaultCluster, jobId: string, workers: string[]): Held[] {
  return workers.flatMap(w => c.logged(w, 'result held for later delivery')
    .filter(l => l.jobId === jobId)
    .map(l => ({ worker: c.node(w).peerId, index: l.index as number })))
}

async function outboxFiles (dataDir: string): Promise<string[]> {
  return fs.readdir(path.join(dataDir, 'outbox')).catch(() => [])
}

/** Runs one owner-away scenario; `whileAway` acts during the absence (scenario 4 restarts a worker). */
async function ownerAway (
  signal: NodeJS.Signals,
  whileAway?: (c: FaultCluster, jobId: string) => Promise<void>
): Promise<void> {
  // The owner's ffmpeg lacks libx264, so the video units must go to the remote workers.
  const noX264 = { ffmpeg: { ffmpegPath: await ffmpegFailing(suite.media, 'ffmpeg-no-x264', ['libx264'], true) } }
  const c = (suite.cluster = await createFaultCluster([
    { name: 'owner', segmentSeconds: 2, extra: noX264 },
    { name: 'w1', segmentSeconds: 2 },
    { name: 'w2', segmentSeconds: 2 }
  ]))
  for (const n of ['owner', 'w1', 'w2']) await c.start(n)
  await c.waitMesh()
  const id = await c.submit('owner', suite.source, 'slow264')
  const [w1, w2] = [c.node('w1'), c.node('w2')]
  const workers = [w1.peerId, w2.peerId]
  // A video unit, not the audio one: the audio converts in about a second, so its result can
  // reach the owner before the owner stops, and then no worker holds anything for it.
  await waitUntil(
    async () => {
      // The status (a CLI run) is read only once some unit converts.
      if (convertingOn(c.node('owner'), id, workers) == null) return false
      const segments = new Set((await c.status('owner', id)).units.filter(u => u.kind === 'segment').map(u => u.index))
      return convertingOn(c.node('owner'), id, workers, index => segments.has(index))
    },
    'a worker to be converting a video unit',
    paced(90_000)
  )
  const before = await c.status('owner', id)
  expect(before.state).toBe('running')
  const stoppedAt = Date.now()
  const exited = await c.stop('owner', signal)
  if (signal === 'SIGTERM') expect(exited.code).toBe(0)
  else expect(exited.signal).toBe('SIGKILL')

  // The workers finish what they hold and keep the results for the owner.
  await waitUntil(async () => heldUnits(c, id, ['w1', 'w2']).length >= 1, 'a worker to hold a result', AWAY_MS)
  await whileAway?.(c, id)
  expect((await outboxFiles(w1.dataDir)).length + (await outboxFiles(w2.dataDir)).length).toBeGreaterThan(0)
  await new Promise(resolve => setTimeout(resolve, Math.max(0, AWAY_MS - (Date.now() - stoppedAt))))
  const held = heldUnits(c, id, ['w1', 'w2'])
  console.log(
    `owner away ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s (${signal}), lease ${FAULT_TIMING.leaseSeconds} s; held results: ${JSON.stringify(held.map(h => h.index))}`
  )

  await c.start('owner')
  const job = await c.waitJob('owner', id)
  expect(job.state, JSON.stringify(job.error)).toBe('done')
  for (const h of held) {
    expect(job.units[h.index], `unit ${h.index} held by ${h.worker}`).toMatchObject({
      state: 'verified',
      worker: h.worker,
      attempts: 1
    })
  }
  expect(c.logged('w1', 'held result delivered').length + c.logged('w2', 'held result delivered').length).toBe(
    held.length
  )
  expect(await outboxFiles(w1.dataDir)).toEqual([])
  expect(await outboxFiles(w2.dataDir)).toEqual([])
  const owner = c.node('owner')
  expect(await outputFiles(owner.outDir)).toHaveLength(1)
  expect(await videoFrames(job.output as string)).toBe(await videoFrames(suite.source))
}

describe('fault scenarios: the owner away', () => {
  it('3a. the submitting node stopped cleanly (SIGTERM) mid-job for 20 s: held results are delivered, not converted again', async () => {
    await ownerAway('SIGTERM')
  })

  it('3b. the submitting node killed (kill -9) mid-job for 20 s: held results are delivered, not converted again', async () => {
    await ownerAway('SIGKILL')
  })

  it('4. a worker holding a finished result restarts before the owner returns: the result survives and is delivered', async () => {
    await ownerAway('SIGTERM', async (c, id) => {
      const holder = heldUnits(c, id, ['w1'])[0] ?? heldUnits(c, id, ['w2'])[0]
      const name = holder.worker === c.node('w1').peerId ? 'w1' : 'w2'
      const outbox = await outboxFiles(c.node(name).dataDir)
      expect(outbox.length).toBeGreaterThan(0)
      await c.stop(name, 'SIGKILL')
      await c.start(name)
      // Still there after the restart, waiting for the owner.
      expect(await outboxFiles(c.node(name).dataDir)).toEqual(expect.arrayContaining(outbox))
    })
  })
})
