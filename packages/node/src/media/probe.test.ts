import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, type Profile } from '@ffmesh/protocol'
import { makeSample, SAMPLE_FACTS } from '../../../../test/fixtures/media.js'
import { createLogger } from '../logger.js'
import { probeSource, type MediaInfo } from './probe.js'
import { checkProfileFits, unitOutputExtension } from './profile-args.js'
import { createFfmpegRunner, type FfmpegRunner } from './runner.js'

const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
const profile = (name: string): Profile => {
  const found = DEFAULT_PROFILES.find(p => p.name === name)
  if (found == null) throw new Error(`no default profile ${name}`)
  return found
}

describe('probeSource', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffmesh-probe-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it.each([
    ['a missing file', async () => join(dir, 'no-such-file.mkv'), 'SOURCE_NOT_FOUND'],
    ['a directory', async () => dir, 'SOURCE_IS_DIRECTORY'],
    ['a 0-byte file', async () => await makeSample('zeroByte', dir), 'SOURCE_EMPTY'],
    ['a text file named .mp4', async () => await makeSample('textAsMp4', dir), 'SOURCE_NOT_MEDIA'],
    ['an mp4 cut in half', async () => await makeSample('truncatedMp4', dir), 'SOURCE_CORRUPT']
  ])('refuses %s with its code', async (_name, make, code) => {
    await expect(probeSource(runner, await make())).rejects.toMatchObject({ code })
  })

  it('describes a multi-track Matroska file, reading only the start of its video', async () => {
    const probes: string[][] = []
    const counting: FfmpegRunner = {
      ...runner,
      probeJson: async (args, options) => {
        probes.push(args)
        return await runner.probeJson(args, options)
      }
    }
    const info = await probeSource(counting, await makeSample('multiTrackMkv', dir))
    const facts = SAMPLE_FACTS.multiTrackMkv
    // The frame count comes with the plan (plan.test.ts): no probe here reads the file to its end.
    expect(probes.filter(args => args.includes('-count_packets') && !args.includes('-read_intervals'))).toEqual([])
    expect(info).toMatchObject({
      kind: 'video',
      videoCodec: 'h264',
      videoFrames: null,
      audioTracks: facts.audioTracks,
      subtitleTracks: facts.subtitleTracks,
      chapters: facts.chapters,
      title: facts.title,
      frameRate: facts.frameRate,
      videoStreamIndex: 0,
      picture: { pixelFormat: 'yuv420p', width: 320, height: 240 }
    })
    expect(info.durationSec).toBeCloseTo(facts.durationSec, 1)
    expect(info.streams.filter(s => s.type === 'audio').map(s => s.language)).toEqual(['eng', 'fra'])
    expect(info.streams.filter(s => s.type === 'subtitle').map(s => s.codec)).toEqual(['subrip', 'ass'])
    expect(info.streams.filter(s => s.type === 'attachment')).toHaveLength(1)
  })

  it('tells images, audio and MPEG-TS video apart', async () => {
    expect(await probeSource(runner, await makeSample('image', dir))).toMatchObject({
      kind: 'image',
      videoFrames: 1,
      audioTracks: 0
    })
    const audio = await probeSource(runner, await makeSample('audioOnly', dir))
    expect(audio).toMatchObject({ kind: 'audio', videoFrames: null, videoCodec: null, audioTracks: 1 })
    expect(audio.durationSec).toBeCloseTo(SAMPLE_FACTS.audioOnly.durationSec, 1)
    const ts = await probeSource(runner, await makeSample('openGopTs', dir))
    expect(ts).toMatchObject({ kind: 'video', videoCodec: 'mpeg2video', videoFrames: null, audioTracks: 1 })
    expect(ts.startTime).toBeGreaterThan(1) // the TS muxer's default delay: ranges must not assume 0
  })
})

describe('checkProfileFits', () => {
  const base: MediaInfo = {
    kind: 'video', formatName: 'matroska,webm', durationSec: 10, startTime: 0, videoFrames: 250, videoCodec: 'h264',
    audioTracks: 2, subtitleTracks: 0, chapters: 0, title: null, streams: [
      { index: 0, type: 'video', codec: 'h264', language: null, title: null, attachedPic: false },
      { index: 1, type: 'audio', codec: 'aac', language: null, title: null, attachedPic: false },
      { index: 2, type: 'audio', codec: 'aac', language: null, title: null, attachedPic: false }
    ]
  }
  const audioOnly: MediaInfo = {
    ...base,
    kind: 'audio',
    videoFrames: null,
    videoCodec: null,
    audioTracks: 1,
    streams: [base.streams[1] as MediaInfo['streams'][number]]
  }
  const image: MediaInfo = {
    ...base,
    kind: 'image',
    videoFrames: 1,
    videoCodec: 'png',
    audioTracks: 0,
    streams: [{ ...(base.streams[0] as MediaInfo['streams'][number]), codec: 'png' }]
  }

  it('accepts what fits', () => {
    for (const name of ['h264', 'h265', 'av1', 'vp9', 'opus', 'aac']) {
      expect(() => checkProfileFits(base, profile(name))).not.toThrow()
    }
    for (const name of ['opus', 'aac', 'mp3', 'flac']) {
      expect(() => checkProfileFits(audioOnly, profile(name))).not.toThrow()
    }
    expect(() => checkProfileFits(image, profile('webp'))).not.toThrow()
    const small = { ...base, picture: { pixelFormat: 'yuv420p', width: 96, height: 54 } }
    for (const name of ['h264', 'h265', 'vp9']) expect(() => checkProfileFits(small, profile(name))).not.toThrow()
    expect(() => checkProfileFits({ ...small, picture: { pixelFormat: 'yuv420p', width: 65, height: 65 } }, profile('av1')))
      .not.toThrow()
  })

  it.each([
    ['an image profile on video', () => base, 'webp'],
    ['a video profile on audio', () => audioOnly, 'h264'],
    ['a video profile on an image', () => image, 'av1'],
    ['an audio profile on an image', () => image, 'opus'],
    ['mp3 on two audio tracks', () => base, 'mp3'],
    ['flac on two audio tracks', () => base, 'flac'],
    ['webm with AAC audio', () => base, 'webm-aac'],
    ['an unknown preset', () => base, 'bad-preset'],
    ['SVT-AV1 on a picture under 64 pixels high', () => ({ ...base, picture: { pixelFormat: 'yuv420p', width: 96, height: 54 } }), 'av1']
  ])('refuses %s with PROFILE_MISMATCH', (_name, info, name) => {
    const p =
      name === 'webm-aac'
        ? { ...profile('vp9'), name, container: 'webm' as const, audio: { encoder: 'aac' as const } }
        : name === 'bad-preset'
          ? { ...profile('h264'), name, video: { encoder: 'libx264' as const, quality: 23, preset: 'warp9' } }
          : profile(name)
    expect(() => checkProfileFits(info(), p)).toThrow(expect.objectContaining({ code: 'PROFILE_MISMATCH' }))
  })

  it('names unit outputs by what they hold', () => {
    expect(unitOutputExtension({ kind: 'segment', profile: profile('vp9') })).toBe('.mkv')
    expect(unitOutputExtension({ kind: 'audio', profile: profile('h264') })).toBe('.mka')
    expect(unitOutputExtension({ kind: 'whole', profile: profile('webp') })).toBe('.webp')
    expect(unitOutputExtension({ kind: 'whole', profile: profile('opus') })).toBe('.opus')
  })
})
