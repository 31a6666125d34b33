import { describe, expect, it } from 'vitest'
import { cutTimes, MIN_TAIL_PIECE_SEC } from './cut-times.js'

/** The pieces' lengths, rounded to milliseconds. */
function pieces (duration: number, cuts: number[]): number[] {
  const bounds = [0, ...cuts, duration]
  return bounds.slice(1).map((end, i) => Math.round((end - (bounds[i] as number)) * 1000) / 1000)
}

describe('cutTimes', () => {
  it('cuts every step for one slot, leaving a last segment between half and one and a half steps', () => {
    expect(cutTimes(60, 6, 0)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54])
    expect(cutTimes(62, 6, 0)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54])
    expect(cutTimes(64, 6, 0)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54, 60])
  })

  it('shares out half of what is left each round, so the pieces shrink toward the end', () => {
    expect(pieces(180, cutTimes(180, 45, 2))).toEqual([45, 45, 22.5, 22.5, 11.25, 11.25, 5.625, 5.625, 5.625, 5.625])
    expect(pieces(600, cutTimes(600, 150, 2))).toEqual(
      [150, 150, 75, 75, 37.5, 37.5, 18.75, 18.75, 9.375, 9.375, 4.688, 4.688, 4.688, 4.688]
    )
  })

  it('splits the last round evenly, one piece a slot, or fewer when the rest is short', () => {
    expect(pieces(60, cutTimes(60, 15, 2))).toEqual([15, 15, 7.5, 7.5, 7.5, 7.5])
    expect(pieces(61.3, cutTimes(61.3, 30, 3)))
      .toEqual([10.217, 10.217, 10.217, 5.108, 5.108, 5.108, 5.108, 5.108, 5.108])
    expect(pieces(10, cutTimes(10, 20, 4))).toEqual([5, 5])
  })

  it('never cuts a piece longer than the step', () => {
    const lengths = pieces(600, cutTimes(600, 60, 2))
    expect(lengths).toEqual([60, 60, 60, 60, 60, 60, 60, 60, 30, 30, 15, 15, 7.5, 7.5, 7.5, 7.5])
    expect(Math.max(...pieces(3600, cutTimes(3600, 20, 8)))).toBe(20)
  })

  it('keeps every piece at least MIN_TAIL_PIECE_SEC long, the last one too', () => {
    for (const [duration, step, slots] of [[180, 20, 2], [61.3, 30, 3], [3600, 60, 8], [25, 20, 4]] as const) {
      expect(Math.min(...pieces(duration, cutTimes(duration, step, slots)))).toBeGreaterThanOrEqual(MIN_TAIL_PIECE_SEC)
    }
  })

  it('with short steps, halves them at the end, no further', () => {
    expect(cutTimes(60, 6, 2)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 51, 54, 57])
    expect(cutTimes(12, 6, 5)).toEqual([3, 6, 9])
  })

  it('leaves a video shorter than two floors in one piece', () => {
    expect(cutTimes(2 * MIN_TAIL_PIECE_SEC - 0.5, 20, 2)).toEqual([])
  })

  it('returns increasing times inside the video', () => {
    for (const [duration, step, slots] of [[3600, 20, 8], [61.3, 6, 3], [7, 6, 2], [180, 45, 64]] as const) {
      const cuts = cutTimes(duration, step, slots)
      for (let i = 1; i < cuts.length; i++) expect(cuts[i]).toBeGreaterThan(cuts[i - 1] as number)
      expect(Math.min(...cuts)).toBeGreaterThan(0)
      expect(Math.max(...cuts)).toBeLessThan(duration)
    }
  })
})
