import { describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES } from './profiles.js'
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
})
