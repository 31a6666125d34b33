import { describe, expect, it } from 'vitest'
import { estimatedProgress, nextAnchor, workerSpeed, type HeardProgress } from './progress-estimate.js'

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

  it("moves a report with no speed of its own yet on at the worker's last speed, from the encode's start", () => {
    // Heard once as it began at 3 s; 0.02 a second at the worker's last speed: 0.1 by 8 s.
    expect(estimatedProgress(converting(0, 3_000, 3_000), 8_000, 2 * HEARTBEAT_MS, 0.02 / 1000)).toBeCloseTo(0.1)
    expect(estimatedProgress(converting(0, 3_000, 3_000), 60_000, 2 * HEARTBEAT_MS, 0.02 / 1000)).toBeCloseTo(0.2)
    expect(estimatedProgress(converting(0.9, 3_000, 3_000, 0.9), 60_000, 2 * HEARTBEAT_MS, 0.1 / 1000)).toBe(1)
    // A speed of its own wins; a second report that showed none keeps the report as it is.
    expect(estimatedProgress(converting(0.25, 5_000), 7_000, 2 * HEARTBEAT_MS, 1 / 1000)).toBeCloseTo(0.35)
    expect(estimatedProgress(converting(0.3, 5_000, 0, 0.3), 8_000, 2 * HEARTBEAT_MS, 1 / 1000)).toBe(0.3)
    expect(estimatedProgress({ ...converting(0.05, 5_000), phase: 'fetching' }, 8_000, 2 * HEARTBEAT_MS, 1 / 1000)).toBe(0.05)
  })

  it("measures a worker's speed in media seconds a millisecond, from a second report of the encode on", () => {
    const perSec = (heard: HeardProgress, durationSec: number): number | null => {
      const speed = workerSpeed(heard, durationSec)
      return speed == null ? null : speed * 1000
    }
    // 0.25 of a 40 s unit in 5 s: 2 media seconds a second.
    expect(perSec(converting(0.25, 5_000), 40)).toBeCloseTo(2)
    expect(perSec(converting(0, 3_000, 3_000), 40)).toBeNull()
    expect(perSec(converting(0.3, 5_000, 0, 0.3), 40)).toBeNull()
    // The report that the encode ended measures all of it: 40 s in 10 s.
    expect(perSec({ ...converting(1, 10_000), phase: 'returning' }, 40)).toBeCloseTo(4)
    expect(perSec({ ...converting(1, 10_000), phase: 'returning', anchor: null }, 40)).toBeNull()
    expect(perSec({ ...converting(0.1, 5_000), phase: 'fetching' }, 40)).toBeNull()
    expect(perSec(converting(0.25, 5_000), 0)).toBeNull()
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
