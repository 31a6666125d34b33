import { describe, expect, it } from 'vitest'
import { chooseCut, minSegmentSec, WHOLE_ON_ONE_SLOT_MAX_SEC } from './cut-policy.js'

const idle = { converting: [], waiting: [], planning: 0 }
/** The work ahead: units held (seconds left of each) and units waiting. */
const ahead = (converting: number[], waiting: number[] = []) => ({ converting, waiting, planning: 0 })
const base = { sourceBytes: 100e6, maxSegmentSec: 20, ahead: idle, afterSec: 0 }

describe('how the planner cuts a job', () => {
  it('cuts a long file on an idle mesh into segments, two per slot, within the longest segment', () => {
    expect(chooseCut({ ...base, durationSec: 600, slots: 2 })).toEqual({
      whole: false,
      segmentSeconds: 20,
      tailSegments: 2
    })
    expect(chooseCut({ ...base, durationSec: 60, slots: 2 })).toEqual({
      whole: false,
      segmentSeconds: 15,
      tailSegments: 2
    })
    // Never shorter than a segment worth its fixed cost.
    const cut = chooseCut({ ...base, durationSec: 60, slots: 8 })
    expect(cut).toMatchObject({ whole: false, tailSegments: 8 })
    expect(cut.whole === false && cut.segmentSeconds).toBeCloseTo(minSegmentSec())
  })

  it('sends a short file whole to one worker', () => {
    expect(chooseCut({ ...base, durationSec: 2 * minSegmentSec() - 1, slots: 4 })).toEqual({ whole: true, why: 'short' })
  })

  it('spreads a batch file by file while the other slots have work, and cuts where they would wait', () => {
    const batch = { ...base, durationSec: 120, slots: 2 }
    // Files queued behind this one fill the other slot.
    expect(chooseCut({ ...batch, afterSec: 400 })).toEqual({ whole: true, why: 'batch' })
    // The other slot converts a file with more left than this one.
    expect(chooseCut({ ...batch, ahead: ahead([150]) })).toEqual({ whole: true, why: 'batch' })
    // The end of a batch: the other slot has 50 s left and nothing follows.
    expect(chooseCut({ ...batch, ahead: ahead([50]) })).toMatchObject({ whole: false })
    // The unit under way is nearly done: what counts is what is left of it, not its length.
    expect(chooseCut({ ...batch, ahead: ahead([180 * 0.2]) })).toMatchObject({ whole: false })
    // Two files waiting ahead go one to each slot, so this one would end 120 s after the other slot.
    expect(chooseCut({ ...batch, ahead: ahead([], [120, 120]) })).toMatchObject({ whole: false })
    // The last two files planned together: the one ahead is spread over both slots, so this one,
    // whole, would keep the other slot waiting.
    expect(chooseCut({ ...base, durationSec: 25, slots: 2, ahead: { converting: [], waiting: [], planning: 75 } }))
      .toMatchObject({ whole: false })
    // A file much longer than the rest of the batch.
    expect(chooseCut({ ...base, durationSec: 600, slots: 2, afterSec: 300 })).toMatchObject({ whole: false })
    // Too big to send whole to another worker.
    expect(chooseCut({ ...batch, afterSec: 400, sourceBytes: 2 ** 40 })).toMatchObject({ whole: false })
  })

  it('cuts a short file that ends a batch in one piece per slot when whole it would keep a slot waiting', () => {
    // A measured unit cost that makes 25 s short: two segments of it would cost more than 10 % each.
    const costly = { fixedSec: 1, secPerMediaSec: 0.55 }
    const last = { ...base, durationSec: 25, slots: 2, unitCost: costly }
    expect(2 * minSegmentSec(costly)).toBeGreaterThan(25)
    // Alone on an idle mesh it goes whole.
    expect(chooseCut(last)).toEqual({ whole: true, why: 'short' })
    // The other slot has 3 s left and nothing follows: whole, this file would keep it waiting 22 s.
    expect(chooseCut({ ...last, ahead: ahead([3]) })).toEqual({ whole: false, segmentSeconds: 12.5, tailSegments: 0 })
    // The other slot is busy for as long as this file takes: whole.
    expect(chooseCut({ ...last, ahead: ahead([24]) })).toEqual({ whole: true, why: 'short' })
    // Files behind it fill the slot.
    expect(chooseCut({ ...last, ahead: ahead([3]), afterSec: 60 })).toEqual({ whole: true, why: 'short' })
    // Pieces shorter than 10 s cost more than they save: a 15 s clip stays whole.
    expect(chooseCut({ ...last, durationSec: 15, ahead: ahead([3]) })).toEqual({ whole: true, why: 'short' })
  })

  it('sends a file whole when the wait it leaves costs less than its cut would', () => {
    // 120 s whole against the other slot's 115 s: 5 s of waiting, less than the fixed cost of its eight units.
    expect(chooseCut({ ...base, durationSec: 120, slots: 2, ahead: ahead([115]) }))
      .toEqual({ whole: true, why: 'batch' })
    expect(chooseCut({ ...base, durationSec: 120, slots: 2, ahead: ahead([100]) }))
      .toMatchObject({ whole: false })
  })

  it('converts whole on a mesh of one slot, up to a length a restart may repeat', () => {
    expect(chooseCut({ ...base, durationSec: 180, slots: 1 })).toEqual({ whole: true, why: 'one-slot' })
    expect(chooseCut({ ...base, durationSec: WHOLE_ON_ONE_SLOT_MAX_SEC + 1, slots: 1 })).toEqual({
      whole: false,
      segmentSeconds: 20,
      tailSegments: 0
    })
  })
})
