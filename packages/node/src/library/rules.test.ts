import { describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, ErrorCodes, LibraryRulesSchema, type Profile } from '@ffmesh/protocol'
import type { MediaInfo } from '../media/index.js'
import { isAlreadyTarget, probeRule, savingRule, sizeRule } from './rules.js'

const profile = (name: string): Profile => DEFAULT_PROFILES.find(p => p.name === name) as Profile
const rules = (r: object = {}) => LibraryRulesSchema.parse(r)

function video (codec: string, audio: string[] = ['aac'], durationSec = 10): MediaInfo {
  return {
    kind: 'video',
    formatName: 'matroska,webm',
    durationSec,
    startTime: 0,
    videoFrames: null,
    videoCodec: codec,
    audioTracks: audio.length,
    subtitleTracks: 0,
    chapters: 0,
    title: null,
    streams: [
      { index: 0, type: 'video', codec, language: null, title: null, attachedPic: false },
      ...audio.map((a, i) => ({
        index: i + 1,
        type: 'audio' as const,
        codec: a,
        language: null,
        title: null,
        attachedPic: false
      }))
    ]
  }
}

describe('library rules', () => {
  it('takes a source as already converted only when both the codec and the container match', () => {
    expect(isAlreadyTarget('/m/a.mkv', video('hevc'), profile('h265'))).toBe(true)
    expect(isAlreadyTarget('/m/A.MKV', video('hevc'), profile('h265'))).toBe(true)
    // HEVC in MP4 is not what h265 (Matroska) makes; H.264 in Matroska neither.
    expect(isAlreadyTarget('/m/a.mp4', video('hevc'), profile('h265'))).toBe(false)
    expect(isAlreadyTarget('/m/a.mkv', video('h264'), profile('h265'))).toBe(false)
    expect(isAlreadyTarget('/m/a.mkv', video('av1'), profile('av1'))).toBe(true)
  })

  it('does not take an interlaced source as converted where the profile would deinterlace it', () => {
    const interlaced = { ...video('h264'), picture: { pixelFormat: 'yuv420p', width: 1920, height: 1080, fieldOrder: 'tt' } }
    const progressive = { ...interlaced, picture: { ...interlaced.picture, fieldOrder: 'progressive' } }
    expect(isAlreadyTarget('/m/a.mkv', interlaced, profile('h264'))).toBe(false)
    expect(isAlreadyTarget('/m/a.mkv', progressive, profile('h264'))).toBe(true)
    const keeps = structuredClone(profile('h264'))
    if (keeps.video != null) keeps.video.deinterlace = 'off'
    expect(isAlreadyTarget('/m/a.mkv', interlaced, keeps)).toBe(true)
  })

  it('does not take an HDR source as converted where the profile would tone map it', () => {
    const hdr = { ...video('hevc'), picture: { pixelFormat: 'yuv420p10le', width: 3840, height: 2160, transfer: 'smpte2084' } }
    const sdr = structuredClone(profile('h265'))
    if (sdr.video != null) sdr.video.hdr = 'tonemap'
    expect(isAlreadyTarget('/m/a.mkv', hdr, sdr)).toBe(false)
    expect(isAlreadyTarget('/m/a.mkv', hdr, profile('h265'))).toBe(true)
    expect(isAlreadyTarget('/m/a.mkv', { ...hdr, picture: { ...hdr.picture, transfer: 'bt709' } }, sdr)).toBe(true)
  })

  it('checks every audio track of an audio source, and the image codec of a picture', () => {
    const audio = (codecs: string[]): MediaInfo => ({
      ...video('none', codecs),
      kind: 'audio',
      videoCodec: null,
      streams: video('x', codecs).streams.slice(1)
    })
    expect(isAlreadyTarget('/m/a.opus', audio(['opus']), profile('opus'))).toBe(true)
    expect(isAlreadyTarget('/m/a.opus', audio(['opus', 'vorbis']), profile('opus'))).toBe(false)
    expect(isAlreadyTarget('/m/a.flac', audio(['flac']), profile('opus'))).toBe(false)
    const image = (codec: string): MediaInfo => ({ ...video(codec, []), kind: 'image' })
    expect(isAlreadyTarget('/m/p.webp', image('webp'), profile('webp'))).toBe(true)
    expect(isAlreadyTarget('/m/p.png', image('png'), profile('webp'))).toBe(false)
  })

  it('skips with ALREADY_TARGET before the bit rate, and BELOW_MIN_BITRATE by size over duration', () => {
    expect(probeRule('/m/a.mkv', 1, video('hevc'), profile('h265'), rules({ minBitrateKbps: 1000 }))?.code).toBe(
      ErrorCodes.ALREADY_TARGET
    )
    // 1,250,000 bytes over 10 s is 1000 kb/s.
    expect(
      probeRule('/m/a.mp4', 1_250_000, video('h264'), profile('h265'), rules({ minBitrateKbps: 1001 }))?.code
    ).toBe(ErrorCodes.BELOW_MIN_BITRATE)
    expect(probeRule('/m/a.mp4', 1_250_000, video('h264'), profile('h265'), rules({ minBitrateKbps: 1000 }))).toBeNull()
    expect(probeRule('/m/a.mp4', 1, video('h264'), profile('h265'), rules())).toBeNull()
  })

  it('skips files below minSize, and only when a minimum is set', () => {
    expect(sizeRule(99, rules({ minSize: 100 }))?.code).toBe(ErrorCodes.BELOW_MIN_SIZE)
    expect(sizeRule(100, rules({ minSize: 100 }))).toBeNull()
    expect(sizeRule(1, rules())).toBeNull()
  })

  it('discards an output as large as its source or larger, or one that saves less than asked', () => {
    expect(savingRule(1000, 1000, rules())?.code).toBe(ErrorCodes.NO_SAVING)
    expect(savingRule(1000, 1500, rules())?.code).toBe(ErrorCodes.NO_SAVING)
    expect(savingRule(1000, 999, rules())).toBeNull()
    expect(savingRule(1000, 950, rules({ minSavingPercent: 10 }))?.code).toBe(ErrorCodes.NO_SAVING)
    expect(savingRule(1000, 900, rules({ minSavingPercent: 10 }))).toBeNull()
  })

  it('keeps every output with keepLarger; a job logged before the rule existed keeps nothing larger', () => {
    expect(savingRule(1000, 1500, rules({ keepLarger: true }))).toBeNull()
    const { keepLarger: _, ...logged } = rules()
    expect(savingRule(1000, 1500, logged)?.code).toBe(ErrorCodes.NO_SAVING)
    expect(() => rules({ keepLarger: true, minSavingPercent: 5 })).toThrow(/leave out minSavingPercent/)
  })
})
