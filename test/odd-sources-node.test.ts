import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { combedShare, readTruth } from './fixtures/media-truth.js'
import { makeOldFormat } from './fixtures/old-formats.js'
import { makeRecording } from './fixtures/recordings.js'
import { startTestNodes, stopTestNodes, waitForJob, type TestNode } from './helpers/in-process.js'
import { fastProfile, plainRun } from './helpers/kept-check.js'
import { paced } from './helpers/pace.js'
import { AUDIO_DURATION_TOLERANCE_SEC } from '../packages/node/src/media/verify.js'

/** The default h264 profile at the fastest preset: the tests are about timing and pictures, not compression. */
const FAST_264 = fastProfile('h264', p => { p.name = 'fast264' })

// One real node converts sources a plan must not take at their word.
let media: string
let nodes: TestNode[] = []
beforeAll(async () => {
  media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-md-node-'))
  nodes = await startTestNodes([
    { name: 'recorder', mesh: false, slots: 2, segmentSeconds: 2, extra: { profiles: [FAST_264] } }
  ])
}, paced(120_000))
afterAll(async () => {
  await stopTestNodes(nodes)
  await fs.rm(media, { recursive: true, force: true })
})

/**
 * A node's job on a source whose clock jumps: the plan normalises it, logs the copy's facts and
 * blob with the plan, assembly and the output check go by them, and the copy goes with the job.
 */
describe('a node converting a joined TV recording', () => {
  it('ends done, in segments, as long as the recordings and in sync as a plain run; the normalised copy is freed', async () => {
    const node = nodes[0] as TestNode
    const source = await makeRecording('joinedBackward', media)
    const { id } = await node.node.api.submit({ source, profile: 'fast264', outDir: path.join(media, 'out') })
    const job = await waitForJob(node, id)
    expect(job.error).toBeNull()
    expect(job.state).toBe('done')
    expect(job.units.length).toBeGreaterThanOrEqual(3)
    const [got, plain, held] = await Promise.all([
      readTruth(job.output as string, { decode: false }),
      plainRun(source, path.join(media, 'plain.mkv')),
      readTruth(source, { decode: true })
    ])
    expect(got.videoFrames).toBe(held.videoFrames)
    expect(got.videoFrames).toBe(plain.videoFrames)
    const frameSec = held.frameSec as number
    expect(Math.abs(got.headerDuration - plain.headerDuration)).toBeLessThanOrEqual(
      frameSec + AUDIO_DURATION_TOLERANCE_SEC
    )
    expect(Math.abs((got.avOffset as number) - (plain.avOffset as number))).toBeLessThanOrEqual(frameSec)
    // Pieces, results and the normalised copy are all gone with the job.
    const blobs = await fs.readdir(path.join(nodes[0]?.dataDir as string, 'blobs'), {
      recursive: true,
      withFileTypes: true
    })
    expect(blobs.filter(e => e.isFile()).map(e => e.name)).toEqual([])
  })
})

/**
 * A capture of one window: 4:4:4 at an odd size, which x264 refuses in 4:2:0. The owner's plan tells
 * each video unit the picture to write, and every worker writes the same one.
 */
describe('a node converting a window capture (4:4:4, 321x241)', () => {
  it('ends done, in segments, in 4:2:0 at 320x240 with every frame', async () => {
    const node = nodes[0] as TestNode
    const source = await makeOldFormat('windowCapture', media)
    const { id } = await node.node.api.submit({ source, profile: 'fast264', outDir: path.join(media, 'out') })
    const job = await waitForJob(node, id)
    expect(job.error).toBeNull()
    expect(job.state).toBe('done')
    expect(job.units.filter(u => u.kind === 'segment').length).toBeGreaterThanOrEqual(2)
    const [got, held] = await Promise.all([
      readTruth(job.output as string, { decode: false }),
      readTruth(source, { decode: true })
    ])
    expect([got.display, got.pixelFormat]).toEqual(['320x240', 'yuv420p'])
    expect(got.videoFrames).toBe(held.videoFrames)
  })
})

/**
 * Camera video from a PAL DVD: interlaced, 50 fields a second. The owner's probe reads the field
 * order, its plan tells each video unit to deinterlace, and the output shows no comb teeth.
 */
describe('a node converting camera video from a PAL DVD', () => {
  it('ends done, deinterlaced, with every frame', async () => {
    const node = nodes[0] as TestNode
    const source = await makeRecording('palCamera', media)
    expect(await combedShare(source)).toBeGreaterThan(0.8)
    const { id } = await node.node.api.submit({ source, profile: 'fast264', outDir: path.join(media, 'out') })
    const job = await waitForJob(node, id)
    expect(job.error).toBeNull()
    expect(job.state).toBe('done')
    const [got, held] = await Promise.all([
      readTruth(job.output as string, { decode: false }),
      readTruth(source, { decode: true })
    ])
    expect(got.videoFrames).toBe(held.videoFrames)
    expect(await combedShare(job.output as string)).toBeLessThan(0.2)
  })
})
