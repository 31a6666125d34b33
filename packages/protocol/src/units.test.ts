import { describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES } from './profiles.js'
import { MAX_SPEC_STREAMS, MAX_SPEC_TAG_LENGTH } from './limits.js'
import { UnitSpecSchema } from './units.js'

const segment = {
  jobId: '01JD0000000000000000000000',
  index: 0,
  kind: 'segment',
  inputs: [{ hash: 'a'.repeat(128), size: 10 }],
  preRoll: false,
  range: { start: 0, end: 2 },
  durationSec: 2,
  inputFormat: 'mpegts',
  profile: DEFAULT_PROFILES[0]
}

describe('a unit spec', () => {
  it('carries a segment\'s quarter turn, and a range that starts before zero', () => {
    for (const rotation of [0, 90, 180, 270]) {
      expect(UnitSpecSchema.safeParse({ ...segment, rotation }).success).toBe(true)
    }
    expect(UnitSpecSchema.safeParse({ ...segment, range: { start: -12.3, end: -10.3 } }).success).toBe(true)
    expect(UnitSpecSchema.safeParse(segment).success).toBe(true)
  })

  it('refuses any other angle, and a time past its bound', () => {
    for (const rotation of [45, -90, 360, '90']) {
      expect(UnitSpecSchema.safeParse({ ...segment, rotation }).success).toBe(false)
    }
    expect(UnitSpecSchema.safeParse({ ...segment, range: { start: -2e9, end: 0 } }).success).toBe(false)
    expect(UnitSpecSchema.safeParse({ ...segment, range: { start: 0, end: 2e9 } }).success).toBe(false)
  })

  it('carries the picture a video unit writes, and refuses a format no profile may write', () => {
    for (const pixelFormat of ['yuv420p', 'yuv420p10le']) {
      expect(UnitSpecSchema.safeParse({ ...segment, pixelFormat }).success).toBe(true)
    }
    for (const pixelFormat of ['yuv444p', 'rgb24', '', 'yuv420p,scale=1:1']) {
      expect(UnitSpecSchema.safeParse({ ...segment, pixelFormat }).success).toBe(false)
    }
  })

  it('carries the frames a video unit deinterlaces, and nothing that is not one of those', () => {
    for (const deinterlace of ['interlaced', 'all']) {
      expect(UnitSpecSchema.safeParse({ ...segment, deinterlace }).success).toBe(true)
    }
    for (const deinterlace of ['auto', 'yadif', true, '', 'all,scale=1:1']) {
      expect(UnitSpecSchema.safeParse({ ...segment, deinterlace }).success).toBe(false)
    }
  })

  it('carries that a video unit tone maps, as true alone', () => {
    expect(UnitSpecSchema.safeParse({ ...segment, toneMap: true }).success).toBe(true)
    for (const toneMap of [false, 'hable', 1, null]) {
      expect(UnitSpecSchema.safeParse({ ...segment, toneMap }).success).toBe(false)
    }
  })

  it('carries a whole unit\'s source streams within their bounds, and refuses more', () => {
    const whole = { ...segment, kind: 'whole', range: null, inputFormat: 'source' }
    const stream = (index: number): object => ({
      index, type: 'subtitle', codec: 'subrip', language: 'eng', title: null, attachedPic: false
    })
    const many = Array.from({ length: MAX_SPEC_STREAMS }, (_, i) => stream(i))
    expect(UnitSpecSchema.safeParse({ ...whole, streams: many }).success).toBe(true)
    expect(UnitSpecSchema.safeParse({ ...whole, streams: [...many, stream(MAX_SPEC_STREAMS)] }).success).toBe(false)
    const long = { ...stream(0), title: 'x'.repeat(MAX_SPEC_TAG_LENGTH + 1) }
    expect(UnitSpecSchema.safeParse({ ...whole, streams: [long] }).success).toBe(false)
    expect(UnitSpecSchema.safeParse({ ...whole, streams: [{ ...stream(0), path: '/etc' }] }).success).toBe(false)
    for (const codec of ['', '../cover', 'H264', 'x'.repeat(65)]) {
      expect(UnitSpecSchema.safeParse({ ...whole, streams: [{ ...stream(0), codec }] }).success).toBe(false)
    }
  })
})
