import { describe, expect, it } from 'vitest'
import { cutTimes, MIN_TAIL_PIECE_SEC, QUARTER_TAIL_FROM_SEC } from './cut-times.js'

describe('cutTimes', () => {
  it('cuts every step, leaving a last segment between half and one and a half steps', () => {
    expect(cutTimes(60, 6, 0)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54])
    expect(cutTimes(62, 6, 0)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54])
    expect(cutTimes(64, 6, 0)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54, 60])
  })

  it('halves the last tailSegments segments of 6 s, so each slot can end on a short unit', () => {
    expect(cutTimes(60, 6, 2)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 51, 54, 57])
    // The last segment is 7 s long here: its half is 3.5 s.
    expect(cutTimes(61, 6, 1)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54, 57.5])
  })

  it('cuts a long tail segment into a half and two quarters, so each slot ends on a quarter', () => {
    expect(cutTimes(180, 20, 2)).toEqual([20, 40, 60, 80, 100, 120, 140, 150, 155, 160, 170, 175])
    const q = QUARTER_TAIL_FROM_SEC
    expect(cutTimes(4 * q, q, 1)).toEqual([q, 2 * q, 3 * q, 3.5 * q, 3.75 * q])
    // Shorter than QUARTER_TAIL_FROM_SEC: halves only.
    expect(cutTimes(60, 15, 2)).toEqual([15, 30, 37.5, 45, 52.5])
    expect(cutTimes(3 * (q - 1), q - 1, 1)).toEqual([q - 1, 2 * (q - 1), 2.5 * (q - 1)])
  })

  it('halves every segment when there are fewer segments than slots', () => {
    expect(cutTimes(12, 6, 5)).toEqual([3, 6, 9])
  })

  it('never makes a tail piece shorter than the minimum', () => {
    const step = 1.5 * MIN_TAIL_PIECE_SEC
    expect(cutTimes(3 * step, step, 3)).toEqual([step, 2 * step])
  })

  it('returns increasing times inside the video', () => {
    for (const [duration, step, tail] of [[3600, 20, 8], [61.3, 6, 3], [7, 6, 2]] as const) {
      const cuts = cutTimes(duration, step, tail)
      for (let i = 1; i < cuts.length; i++) expect(cuts[i]).toBeGreaterThan(cuts[i - 1] as number)
      expect(Math.min(...cuts)).toBeGreaterThan(0)
      expect(Math.max(...cuts)).toBeLessThan(duration)
    }
  })
})
