import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { videoFrameTimes } from '../../../../test/fixtures/media.js'
import { coverBytes, framePsnr, readTruth } from '../../../../test/fixtures/media-truth.js'
import { makeOldFormat } from '../../../../test/fixtures/old-formats.js'
import { convertAndRead, expectVideoKept, fastProfile, SAME_PICTURE_PSNR_DB } from '../../../../test/helpers/kept-check.js'
import { createLogger } from '../logger.js'
import { convertLocally } from '../../../../test/helpers/local-pipeline.js'
import { createFfmpegRunner } from './runner.js'
import { AUDIO_DURATION_TOLERANCE_SEC } from './verify.js'

const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
const h264 = fastProfile('h264')

/** The formats media libraries are full of, each converted in segments and held against its source. */
describe('old formats a library is full of', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffm-md-old-formats-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it.each([
    ['XviD with packed B-frames', 'xvidAvi'],
    ['DivX 5 with B-frames and AC-3', 'divxAvi']
  ] as const)(
    'converts an AVI, %s: frames without presentation times get them from a stream copy first',
    async (_name, kind) => {
      const c = await convertAndRead(runner, dir, await makeOldFormat(kind, dir), h264)
      expect(c.result.normalised).toBe(true)
      await expectVideoKept(c)
    }
  )

  // Segment seconds: 3 s of DV (every frame a keyframe) is cut at 1 s.
  it.each([
    ['WMV (WMV8, WMA2 in ASF)', 'wmv', 2],
    ['FLV (H.264 with B-frames, AAC)', 'flvH264', 2],
    ['FLV (Sorenson Spark, mono MP3)', 'flvSorenson', 2],
    ['raw PAL DV from a camcorder', 'dv', 1],
    ['Motion-JPEG AVI from a stills camera (full range, 8-bit PCM)', 'mjpegAvi', 2],
    ['ProRes 422 10-bit with 24-bit PCM and a timecode track', 'proresMov', 2],
    ['an anime episode: 10-bit H.264, ASS subtitles with their font attached, chapters', 'assFontMkv', 2]
  ] as const)('converts %s', async (_name, kind, segmentSeconds) => {
    const c = await convertAndRead(runner, dir, await makeOldFormat(kind, dir), h264, segmentSeconds)
    expect(c.result.normalised).toBe(false)
    await expectVideoKept(c)
    // What players decode, whatever the source's chroma and depth (4:2:2 MJPEG and ProRes, 10-bit H.264).
    expect(c.output.pixelFormat).toBe('yuv420p')
  })

  it('keeps HDR10 colour tags (BT.2020, PQ), at 10 bits (h264 too: PQ bands at 8) and in an 8-bit profile', async () => {
    const source = await makeOldFormat('hdr10Mkv', dir)
    for (const tenBitProfile of [h264, fastProfile('h265')]) {
      const tenBit = await convertAndRead(runner, dir, source, tenBitProfile)
      expect(tenBit.source.colour).toBe('bt2020/smpte2084/bt2020nc')
      await expectVideoKept(tenBit)
      expect(tenBit.output.pixelFormat).toBe('yuv420p10le')
    }
    const eightBit = await convertAndRead(
      runner,
      dir,
      source,
      fastProfile('h265', p => {
        p.name = 'h265-8bit'
        if (p.video != null) p.video.pixelFormat = 'yuv420p'
      })
    )
    await expectVideoKept(eightBit)
    expect(eightBit.output.pixelFormat).toBe('yuv420p')
  })

  it.each([
    ['h264', 'in segments', 'yuv420p', 2],
    ['h264', 'whole', 'yuv420p', 60],
    ['h265', 'in segments', 'yuv420p10le', 2]
  ] as const)('tone maps HDR10 to SDR BT.709 with `hdr: tonemap`, %s %s: %s, every frame', async (name, _how, format, segmentSeconds) => {
    const profile = fastProfile(name, p => {
      p.name = `${name}-sdr-${segmentSeconds}`
      if (p.video != null) p.video.hdr = 'tonemap'
    })
    const c = await convertAndRead(runner, dir, await makeOldFormat('hdr10Mkv', dir), profile, segmentSeconds)
    expect(c.source.colour).toBe('bt2020/smpte2084/bt2020nc')
    expect(c.result.units.every(u => u.kind === 'audio' || u.toneMap === true)).toBe(true)
    expect(c.result.units.some(u => u.kind === 'segment')).toBe(segmentSeconds === 2)
    expect([c.output.colour, c.output.pixelFormat]).toEqual(['bt709/bt709/bt709', format])
    expect(c.output.videoFrames).toBe(c.source.videoFrames)
    // Near the SDR picture it was graded from: the HDR picture kept at 8 bits scores about 14 dB.
    const grade = await makeOldFormat('hdr10SdrGrade', dir)
    expect(await framePsnr(c.out, grade, 12)).toBeGreaterThan(19)
  })

  it('writes 4:2:0 at the source\'s depth with x265: ProRes 422 10-bit becomes Main 10', async () => {
    const c = await convertAndRead(runner, dir, await makeOldFormat('proresMov', dir), fastProfile('h265'))
    await expectVideoKept(c)
    expect(c.output.pixelFormat).toBe('yuv420p10le')
  })

  it.each([
    ['in segments', 1],
    ['whole', 60]
  ] as const)(
    'converts a window capture (lossless 4:4:4, 321x241) %s: 4:2:0, the odd column and row cropped',
    async (_how, segmentSeconds) => {
      const source = await makeOldFormat('windowCapture', dir)
      const profile = fastProfile('h264', p => { p.name = `h264-${segmentSeconds}` })
      const c = await convertAndRead(runner, dir, source, profile, segmentSeconds)
      expect(c.source.display).toBe('321x241')
      expect(c.result.units.filter(u => u.kind === 'segment').length > 1).toBe(segmentSeconds === 1)
      expect(c.output.display).toBe('320x240')
      expect(c.output.pixelFormat).toBe('yuv420p')
      expect(c.output.videoFrames).toBe(c.source.videoFrames)
      expect(await framePsnr(c.out, c.file, 12)).toBeGreaterThan(SAME_PICTURE_PSNR_DB)
    }
  )

  it.each([
    ['H.264 MP4 turned a quarter clockwise', 'phoneMp4'],
    ['HEVC MOV turned a quarter counterclockwise', 'phoneMov']
  ] as const)('converts phone video (%s, jittered 90 kHz times): it displays the same way', async (_name, kind) => {
    const c = await convertAndRead(runner, dir, await makeOldFormat(kind, dir), h264)
    expect(c.source.display).toBe('240x320')
    await expectVideoKept(c)
    // The frames keep their uneven times: the same gaps as the source's, frame for frame (MP4 to
    // Matroska rounds each to the millisecond).
    const [ours, theirs] = await Promise.all([videoFrameTimes(c.out), videoFrameTimes(c.file)])
    expect(ours.length).toBe(theirs.length)
    expect(
      Math.max(
        ...ours.map((t, i) => Math.abs(t - (ours[0] as number) - ((theirs[i] as number) - (theirs[0] as number))))
      )
    ).toBeLessThan(0.0011)
  })

  it('keeps the cover art of an MP4, byte for byte, as a Matroska attachment', async () => {
    const c = await convertAndRead(runner, dir, await makeOldFormat('coverMp4', dir), h264)
    await expectVideoKept(c)
    expect(c.output.title).toBe(c.source.title)
    expect((await coverBytes(c.out)).equals(await coverBytes(c.file))).toBe(true)
  })

  it.each(['aac', 'mp3'])('converts an MP3 with ID3 cover art as an audio job (%s), the picture kept', async name => {
    const source = await makeOldFormat('coverMp3', dir)
    const profile = fastProfile(name)
    const out = join(dir, `song.${profile.name}.${profile.container}`)
    const result = await convertLocally(runner, {
      source,
      profile,
      segmentSeconds: 2,
      workDir: join(dir, `work-song-${name}`),
      outFile: out
    })
    expect(result.info.kind).toBe('audio')
    expect(result.units.map(u => u.kind)).toEqual(['whole'])
    const [src, got] = await Promise.all([readTruth(source, { decode: false }), readTruth(out, { decode: false })])
    expect(got.pictures).toBe(1)
    expect((await coverBytes(out)).equals(await coverBytes(source))).toBe(true)
    expect(got.audio).toHaveLength(1)
    expect(got.title).toBe(src.title)
    expect(Math.abs(got.headerDuration - src.span)).toBeLessThanOrEqual(AUDIO_DURATION_TOLERANCE_SEC)
  })
})
