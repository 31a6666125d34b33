import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createFaultCluster, faultSuite, outputFiles, videoFrames } from '../helpers/faults-cluster.js'
import { waitUntil } from '../helpers/node-harness.js'
import { paced } from '../helpers/pace.js'

/**
 * A crash at each step of storing a unit result (packages/node/src/store/crash-point.ts, armed by
 * FFMESH_TEST_CRASH_AT for one run only): after the restart the log never names a result that is
 * not on disk, nothing half-written is left behind, and the job ends with a verified output. And a
 * crash between the two parts of a plan (the audio unit is logged first): the restart plans the rest.
 */
const POINTS = ['result-after-temp-write', 'result-after-fsync', 'result-after-rename', 'result-before-log'] as const

const suite = faultSuite('crash', { name: 'crash.mp4', seconds: 6 })

async function filesUnder (dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter(e => e.isFile()).map(e => path.join(e.parentPath, e.name))
}

async function sha512 (file: string): Promise<string> {
  return createHash('sha512').update(await fs.readFile(file)).digest('hex')
}

describe('fault scenarios: a crash while a result is stored', () => {
  it.each(POINTS)('6. crash at %s: after restart log and disk agree and the output is verified', async (point) => {
    const cluster = suite.cluster = await createFaultCluster([{ name: 'solo', mesh: false, segmentSeconds: 2 }])
    const solo = cluster.node('solo')
    await cluster.start('solo', { FFMESH_TEST_CRASH_AT: point })
    const id = await cluster.submit('solo', suite.source, 'slow264')
    const exited = await solo.proc!.exited
    // Nothing but the armed crash point sends SIGKILL to the node.
    expect(exited.signal).toBe('SIGKILL')
    // Its ffmpeg children outlive it (a real crash leaves them too); end them before looking.
    await cluster.stop('solo', 'SIGKILL')

    // Every blob on disk is complete: named by the SHA-512 of its bytes.
    const blobs = await filesUnder(path.join(solo.dataDir, 'blobs'))
    for (const file of blobs) expect(await sha512(file)).toBe(path.basename(file))

    const tempBefore = await filesUnder(path.join(solo.dataDir, 'tmp'))
    await cluster.start('solo')
    // At start-up the node sweeps what the log does not name: half-stored temp files, and a result
    // blob stored in full but never recorded.
    const started = cluster.logged('solo', 'node started').at(-1) as {
      sweptTempFiles: number
      removedOrphanBlobs: number
    }
    expect(started.sweptTempFiles).toBe(tempBefore.length)
    if (point === 'result-after-temp-write' || point === 'result-after-fsync') {
      expect(started.sweptTempFiles).toBeGreaterThanOrEqual(1)
    } else expect(started.removedOrphanBlobs).toBeGreaterThanOrEqual(1)
    const job = await cluster.waitJob('solo', id, paced(120_000))
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    // The crash came with the first result, so nothing was verified before it: the unit being
    // stored (and one leased in prefetch) went back to pending and were leased once more.
    expect(job.units.filter(u => u.attempts === 2).length).toBeGreaterThanOrEqual(1)
    expect(job.units.every(u => u.attempts <= 2)).toBe(true)
    expect(job.units.every(u => u.state === 'verified')).toBe(true)
    expect(await outputFiles(solo.outDir)).toHaveLength(1)
    expect(await videoFrames(job.output as string)).toBe(await videoFrames(suite.source))
    // With the job done its blobs are freed: a result stored before the crash but never logged
    // must not stay behind as an orphan.
    const left = await waitUntil(async () => {
      const files = await filesUnder(path.join(solo.dataDir, 'blobs'))
      return files.length === 0 ? files : null
    }, 'the job\'s blobs to be freed', paced(10_000)).catch(() => filesUnder(path.join(solo.dataDir, 'blobs')))
    expect(left).toEqual([])
    expect(await filesUnder(path.join(solo.dataDir, 'tmp'))).toEqual([])
  })

  it('6b. crash after the audio unit is planned, before the video is: the restart plans the rest once', async () => {
    const cluster = suite.cluster = await createFaultCluster([{ name: 'solo', mesh: false, segmentSeconds: 2 }])
    const solo = cluster.node('solo')
    await cluster.start('solo', { FFMESH_TEST_CRASH_AT: 'plan-after-audio' })
    const id = await cluster.submit('solo', suite.source, 'slow264')
    expect((await solo.proc!.exited).signal).toBe('SIGKILL')
    await cluster.stop('solo', 'SIGKILL')

    await cluster.start('solo')
    const job = await cluster.waitJob('solo', id, paced(120_000))
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    // One audio unit (the one logged before the crash, index 0), then the video's segments.
    const kinds = job.units.map(u => u.kind)
    expect(kinds.filter(k => k === 'audio')).toHaveLength(1)
    expect(kinds[0]).toBe('audio')
    expect(kinds.filter(k => k === 'segment').length).toBeGreaterThanOrEqual(2)
    expect(job.units.map(u => u.index)).toEqual(job.units.map((_, i) => i))
    expect(job.units.every(u => u.state === 'verified')).toBe(true)
    expect(await outputFiles(solo.outDir)).toHaveLength(1)
    expect(await videoFrames(job.output as string)).toBe(await videoFrames(suite.source))
  })

  // An earlier version named the temp `.ffmesh-<job>.partial.<ext>`: a node upgraded after such a
  // crash finishes it the same way.
  it.each([
    ['6c', 'its temp'],
    ['6d', 'its temp under the name an earlier version gave it']
  ])('%s. crash after the output is linked in, before it is logged, %s: the restart logs that file, once', async (
    _, which
  ) => {
    const cluster = suite.cluster = await createFaultCluster([{ name: 'solo', mesh: false, segmentSeconds: 2 }])
    const solo = cluster.node('solo')
    await cluster.start('solo', { FFMESH_TEST_CRASH_AT: 'placement-after-link' })
    const id = await cluster.submit('solo', suite.source, 'slow264')
    expect((await solo.proc!.exited).signal).toBe('SIGKILL')
    await cluster.stop('solo', 'SIGKILL')
    // The output is in place under its name and still linked from its hidden temp.
    const placed = await outputFiles(solo.outDir)
    expect(placed).toHaveLength(1)
    const temps = (await fs.readdir(solo.outDir)).filter(n => n.startsWith('.ffmesh-') && n.includes('.partial'))
    expect(temps).toHaveLength(1)
    if (which !== 'its temp') {
      const ext = path.extname(temps[0] as string)
      await fs.rename(path.join(solo.outDir, temps[0] as string), path.join(solo.outDir, `.ffmesh-${id}.partial${ext}`))
    }

    await cluster.start('solo')
    const job = await cluster.waitJob('solo', id, paced(120_000))
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    // The restart recorded the file it found instead of assembling and placing a second copy.
    expect(job.output).toBe(path.join(solo.outDir, placed[0] as string))
    expect(await outputFiles(solo.outDir)).toEqual(placed)
    expect((await fs.readdir(solo.outDir)).filter(n => n.startsWith('.ffmesh-'))).toEqual([])
    expect(await videoFrames(job.output as string)).toBe(await videoFrames(suite.source))
  })
})
