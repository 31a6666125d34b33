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
  videoFrames
} from '../helpers/faults-cluster.js'
import { waitUntil } from '../helpers/node-harness.js'
import { paced } from '../helpers/pace.js'

/**
 * Whole-mesh restarts and a submit-only node that walks away: real `ffmesh node` processes on
 * loopback. "Minutes" away is 20 s here, ten lease lengths of 2 s: every lease has long expired.
 */
const AWAY_MS = 20_000

const suite = faultSuite('restart', { name: 'restart.mp4', seconds: 12 })

describe('fault scenarios: restarts', () => {
  it('5. every node killed at once mid-job and restarted: the job completes, verified units are kept', async () => {
    const names = ['a', 'b', 'c']
    // The owner's ffmpeg lacks libx264, so the video units must go to the remote workers.
    const noX264 = { ffmpeg: { ffmpegPath: await ffmpegFailing(suite.media, 'ffmpeg-no-x264', ['libx264'], true) } }
    const c = (suite.cluster = await createFaultCluster(
      names.map(name => ({ name, segmentSeconds: 2, extra: name === 'a' ? noX264 : undefined }))
    ))
    for (const n of names) await c.start(n)
    await c.waitMesh()
    const id = await c.submit('a', suite.source, 'slow264')
    const a = c.node('a')
    await waitUntil(
      async () =>
        a.events.some(e => e.type === 'unit:verified' && e.jobId === id) &&
        convertingOn(a, id, [c.node('b').peerId, c.node('c').peerId]),
      'a verified unit and a remote worker converting',
      paced(90_000)
    )
    const before = await c.status('a', id)
    // A power cut for the whole mesh: no node gets to say goodbye.
    const exits = await Promise.all(names.map(n => c.stop(n, 'SIGKILL')))
    expect(exits.every(e => e.signal === 'SIGKILL')).toBe(true)
    await Promise.all(names.map(n => c.start(n)))
    const job = await c.waitJob('a', id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    for (const u of before.units.filter(u => u.state === 'verified')) {
      expect(job.units[u.index], `unit ${u.index} was verified before the cut`).toMatchObject({
        state: 'verified',
        attempts: u.attempts,
        worker: u.worker
      })
    }
    expect(await outputFiles(c.node('a').outDir)).toHaveLength(1)
    expect(await videoFrames(job.output as string)).toBe(await videoFrames(suite.source))
  })

  it('9. a submit-only node hands a job off and is killed for 20 s: on its return the verified output arrives and status says done', async () => {
    const c = (suite.cluster = await createFaultCluster([
      { name: 'laptop', slots: 0, segmentSeconds: 2 },
      { name: 'nas', segmentSeconds: 2 },
      { name: 'desk', segmentSeconds: 2 }
    ]))
    for (const n of ['laptop', 'nas', 'desk']) await c.start(n)
    await c.waitMesh()
    const laptop = c.node('laptop')
    const id = await c.submit('laptop', suite.source, 'slow264')
    const handed = await waitUntil(
      async () => {
        const s = await c.status('laptop', id)
        return s.owner !== laptop.peerId && s.state === 'running' ? s : null
      },
      'the job to be handed off',
      paced(60_000)
    )
    const newOwner = c.nodes.find(n => n.peerId === handed.owner)
    expect(newOwner, 'the job went to a node of this mesh').toBeDefined()
    const stoppedAt = Date.now()
    const exited = await c.stop('laptop', 'SIGKILL')
    expect(exited.signal).toBe('SIGKILL')

    // The new owner finishes without the submitter and keeps the output for it.
    const remote = await c.waitJob(newOwner!.name, id, AWAY_MS * 6)
    expect(remote.state, JSON.stringify(remote.error)).toBe('done')
    expect(await outputFiles(laptop.outDir)).toEqual([])
    await new Promise(resolve => setTimeout(resolve, Math.max(0, AWAY_MS - (Date.now() - stoppedAt))))
    console.log(
      `submitter away ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s (kill -9), lease ${FAULT_TIMING.leaseSeconds} s`
    )

    await c.start('laptop')
    const job = await c.waitJob('laptop', id, paced(90_000))
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    expect(path.dirname(job.output as string)).toBe(laptop.outDir)
    expect(await outputFiles(laptop.outDir)).toEqual([path.basename(job.output as string)])
    expect(await videoFrames(job.output as string)).toBe(await videoFrames(suite.source))
    // The new owner drops its copy once the submitter has it.
    await waitUntil(
      async () =>
        fs.stat(remote.output as string).then(
          () => false,
          () => true
        ),
      'the new owner to drop its copy',
      paced(30_000)
    )
  })
})
