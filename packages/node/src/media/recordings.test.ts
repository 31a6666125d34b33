import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { combedShare, packetsBeforeKeyframe, readTruth } from '../../../../test/fixtures/media-truth.js'
import { makeRecording, recordingParts } from '../../../../test/fixtures/recordings.js'
import { convertAndRead, expectVideoKept, fastProfile, plainRun } from '../../../../test/helpers/kept-check.js'
import { createLogger } from '../logger.js'
import { createFfmpegRunner } from './runner.js'

const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
const h264 = fastProfile('h264')

/**
 * Sources whose header does not tell the truth: the output is checked against what they hold
 * (decoded frames, where their packets begin and end), and for a clock ffmpeg corrects as it
 * reads, against a plain ffmpeg run of the same source.
 */
describe('recordings whose header does not tell the truth', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffm-md-recordings-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('converts a DVB recording that starts mid-GOP in segments, its first shown frame where a plain run puts it', async () => {
    const source = await makeRecording('dvbRecording', dir)
    expect(await packetsBeforeKeyframe(source)).toBeGreaterThan(0)
    const c = await convertAndRead(runner, dir, source, h264)
    expect(c.result.normalised).toBe(false)
    await expectVideoKept(c)
    await expectVideoKept(c, { reference: await plainRun(source, join(dir, 'dvb-recording-plain.mkv')) })
  })

  it.each([
    ['forward, half an hour (MPEG-2, MP2)', 'joinedForward'],
    ['back 20 s (interlaced H.264, AC-3)', 'joinedBackward']
  ] as const)(
    'converts two TV recordings joined byte-wise, the clock jumping %s, as a plain ffmpeg run does',
    async (_name, kind) => {
      const source = await makeRecording(kind, dir)
      const parts = await Promise.all(recordingParts(source).map(async p => await readTruth(p, { decode: false })))
      const c = await convertAndRead(runner, dir, source, h264)
      expect(c.result.normalised).toBe(true)
      // The header spans the jump: its duration is nothing like what the recordings hold.
      const held = parts[0].span + parts[1].span
      expect(Math.abs(c.source.headerDuration - held)).toBeGreaterThan(2)
      await expectVideoKept(c, { reference: await plainRun(source, join(dir, `${kind}-plain.mkv`)) })
      // No hole and no overlap where the recordings meet (the plain run's reference says the same).
      expect(Math.abs(c.output.headerDuration - held)).toBeLessThan(1)
    }
  )

  it('converts a TS recording whose 33-bit clock wraps in the middle', async () => {
    const source = await makeRecording('wrappedClock', dir)
    const c = await convertAndRead(runner, dir, source, h264)
    expect(c.result.normalised).toBe(true)
    await expectVideoKept(c, { reference: await plainRun(source, join(dir, 'wrapped-plain.mkv')) })
    await expectVideoKept(c)
  })

  it.each([
    ['a Matroska recording whose writer stopped', 'cutShortMkv'],
    ['an MP4 download that stopped (index at the front)', 'cutShortMp4']
  ] as const)('converts %s: the header still claims the full length', async (_name, kind) => {
    const c = await convertAndRead(runner, dir, await makeRecording(kind, dir), h264)
    expect(c.source.headerDuration - c.source.span).toBeGreaterThan(2)
    expect(c.result.normalised).toBe(false)
    await expectVideoKept(c)
  })

  it.each([
    ['a PAL DVD (MPEG-PS)', 'palVob'],
    ['a PAL DVB recording (MPEG-TS)', 'palTs']
  ] as const)('converts interlaced PAL MPEG-2 with 5.1 AC-3 from %s', async (_name, kind) => {
    // 3 s of 720x576: 1 s segments (a GOP is half a second).
    const c = await convertAndRead(runner, dir, await makeRecording(kind, dir), h264, 1)
    expect(c.source.audio.map(a => [a.channels, a.layout])).toEqual([[6, '5.1(side)']])
    await expectVideoKept(c)
    // AAC's own 5.1, not 5.1(side) in a program config element that readers call "unknown".
    expect(c.output.audio.map(a => a.layout)).toEqual(['5.1'])
  })

  it.each([
    ['in segments (an audio unit)', 1],
    ['whole', 60]
  ] as const)('converts a DVD\'s 5.1 AC-3 to Opus, as the av1 and vp9 profiles do, %s: 5.1(side) becomes 5.1', async (_how, segmentSeconds) => {
    const profile = fastProfile('h264', p => {
      p.name = `h264-opus-${segmentSeconds}`
      p.audio = { encoder: 'libopus', bitrateKbps: 128 }
    })
    const c = await convertAndRead(runner, dir, await makeRecording('palVob', dir), profile, segmentSeconds)
    expect(c.result.units.some(u => u.kind === 'audio')).toBe(segmentSeconds === 1)
    if (segmentSeconds === 1) await expectVideoKept(c)
    else expect(c.output.videoFrames).toBe(c.source.videoFrames)
    expect(c.output.audio.map(a => [a.codec, a.layout])).toEqual([['opus', '5.1']])
  })

  it.each([
    ['in segments', 1],
    ['whole', 60]
  ] as const)('deinterlaces camera video from a PAL DVD (50 fields a second), %s: no frame combed, none lost', async (_how, segmentSeconds) => {
    const c = await convertAndRead(runner, dir, await makeRecording('palCamera', dir), h264, segmentSeconds)
    expect(await combedShare(c.file)).toBeGreaterThan(0.8)
    expect(c.result.units.every(u => u.kind === 'audio' || u.deinterlace === 'interlaced')).toBe(true)
    expect(c.result.units.some(u => u.kind === 'segment')).toBe(segmentSeconds === 1)
    expect(c.output.videoFrames).toBe(c.source.videoFrames)
    expect(await combedShare(c.out)).toBeLessThan(0.2)
  })

  it.each([
    ['auto', 'a capture that says progressive', 'combed', 'combedCapture'],
    ['off', 'camera video from a PAL DVD', 'combed', 'palCamera'],
    ['always', 'a capture that says progressive', 'deinterlaced', 'combedCapture']
  ] as const)('with deinterlace: %s, %s comes out %s', async (mode, _what, outcome, kind) => {
    const profile = fastProfile('h264', p => {
      p.name = `h264-deinterlace-${mode}`
      if (p.video != null) p.video.deinterlace = mode
    })
    const source = await makeRecording(kind, dir)
    expect(await combedShare(source)).toBeGreaterThan(0.8)
    const c = await convertAndRead(runner, dir, source, profile, 1)
    expect(c.output.videoFrames).toBe(c.source.videoFrames)
    const after = await combedShare(c.out)
    if (outcome === 'combed') expect(after).toBeGreaterThan(0.8)
    else expect(after).toBeLessThan(0.2)
  })

  it.each([
    ['Matroska (Opus)', 'lateAudioMkv'],
    ['MP4, an edit list (AAC)', 'lateAudioMp4'],
    ['MPEG-TS (MP2)', 'lateAudioTs']
  ] as const)('keeps audio that starts 1.5 s after the video, in %s', async (_name, kind) => {
    const c = await convertAndRead(runner, dir, await makeRecording(kind, dir), h264)
    expect(c.source.avOffset).toBeGreaterThan(1.4)
    await expectVideoKept(c)
  })
})
