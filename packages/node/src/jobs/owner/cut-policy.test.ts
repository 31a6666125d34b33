import { describe, expect, it } from 'vitest'
import { chooseCut, minSegmentSec, WHOLE_ON_ONE_SLOT_MAX_SEC } from './cut-policy.js'

const base = { sourceBytes: 100e6, maxSegmentSec: 20, otherWorkSec: 0 }

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
    expect(chooseCut({ ...base, durationSec: 120, slots: 2, otherWorkSec: 400 })).toEqual({ whole: true, why: 'batch' })
    // The end of a batch: the other slot has less left than this file.
    expect(chooseCut({ ...base, durationSec: 120, slots: 2, otherWorkSec: 50 })).toMatchObject({ whole: false })
    // A file much longer than the rest of the batch.
    expect(chooseCut({ ...base, durationSec: 600, slots: 2, otherWorkSec: 300 })).toMatchObject({ whole: false })
    // Too big to send whole to another worker.
    expect(chooseCut({ ...base, durationSec: 120, slots: 2, otherWorkSec: 400, sourceBytes: 2 ** 40 }))
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
