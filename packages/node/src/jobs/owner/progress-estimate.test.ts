import { describe, expect, it } from 'vitest'
import { estimatedProgress, nextAnchor, type HeardProgress } from './progress-estimate.js'

const HEARTBEAT_MS = 5_000
const converting = (progress: number, heardAt: number, anchorAt = 0, anchorProgress = 0): HeardProgress => ({
  progress,
  phase: 'converting',
  heardAt,
  anchor: { attempt: 1, progress: anchorProgress, at: anchorAt }
})

describe("a unit's progress between heartbeats", () => {
  it('moves the last report on at the speed since the encode began', () => {
    // 0.25 in 5 s: 0.05 a second; 2 s after the report it is 0.35.
    expect(estimatedProgress(converting(0.25, 5_000), 7_000, 2 * HEARTBEAT_MS)).toBeCloseTo(0.35)
    // The speed is the mean since the anchor, not since the last report.
    expect(estimatedProgress(converting(0.6, 10_000, 2_000, 0.2), 12_000, 2 * HEARTBEAT_MS)).toBeCloseTo(0.7)
  })

  it('does not run past the end, nor on for longer than the limit when the worker goes quiet', () => {
    expect(estimatedProgress(converting(0.9, 9_000), 60_000, 2 * HEARTBEAT_MS)).toBe(1)
    // 0.01 a second, and 60 s of silence counts as 10.
    expect(estimatedProgress(converting(0.1, 10_000), 70_000, 2 * HEARTBEAT_MS)).toBeCloseTo(0.2)
  })

  it('is the report itself without a speed: one report of the encode, another phase, or no progress', () => {
    expect(estimatedProgress(converting(0, 3_000, 3_000), 8_000, 2 * HEARTBEAT_MS)).toBe(0)
    expect(estimatedProgress({ ...converting(0.05, 5_000), phase: 'fetching' }, 8_000, 2 * HEARTBEAT_MS)).toBe(0.05)
    expect(estimatedProgress({ ...converting(1, 5_000), phase: 'returning' }, 8_000, 2 * HEARTBEAT_MS)).toBe(1)
    expect(estimatedProgress({ ...converting(0.3, 5_000), anchor: null }, 8_000, 2 * HEARTBEAT_MS)).toBe(0.3)
    expect(estimatedProgress(converting(0.3, 5_000, 0, 0.3), 8_000, 2 * HEARTBEAT_MS)).toBe(0.3)
    // A clock that went back (a report timed before the one read now) moves nothing.
    expect(estimatedProgress(converting(0.25, 5_000), 4_000, 2 * HEARTBEAT_MS)).toBe(0.25)
  })

  it("anchors on the attempt's first report of its encode and starts over with a new attempt", () => {
    const first = nextAnchor(null, { attempt: 1, phase: 'fetching', progress: 0.05 }, 1_000)
    expect(first).toBeNull()
    const start = nextAnchor(first, { attempt: 1, phase: 'converting', progress: 0 }, 2_000)
    expect(start).toEqual({ attempt: 1, progress: 0, at: 2_000 })
    expect(nextAnchor(start, { attempt: 1, phase: 'converting', progress: 0.4 }, 7_000)).toBe(start)
    expect(nextAnchor(start, { attempt: 1, phase: 'returning', progress: 1 }, 9_000)).toBe(start)
    // Given again after a failure: the old attempt's speed says nothing of the new one's.
    expect(nextAnchor(start, { attempt: 2, phase: 'fetching', progress: 0 }, 20_000)).toBeNull()
    expect(nextAnchor(start, { attempt: 2, phase: 'converting', progress: 0 }, 21_000)).toEqual({
      attempt: 2,
      progress: 0,
      at: 21_000
    })
  })
})
