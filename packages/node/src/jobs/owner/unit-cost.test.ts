import { describe, expect, it } from 'vitest'
import type { UnitRecord } from '../../store/records.js'
import { chooseCut, DEFAULT_UNIT_COST, minSegmentSec } from './cut-policy.js'
import { fitUnitCost, unitSamples } from './unit-cost.js'

/** A verified unit of `mediaSec` whose verified try took `wallSec` from ffmpeg's start. */
function verified (kind: 'segment' | 'audio' | 'whole', mediaSec: number, wallSec: number): UnitRecord {
  return {
    state: 'verified',
    spec: { kind, durationSec: mediaSec },
    tries: [
      { worker: 'w', attempt: 1, leasedAt: 0, convertingAt: 1000, endedAt: 1000 + wallSec * 1000, outcome: 'released' },
      { worker: 'w', attempt: 2, leasedAt: 0, convertingAt: 5000, endedAt: 5000 + wallSec * 1000, outcome: 'verified' }
    ]
  } as unknown as UnitRecord
}

describe('what a unit costs, measured from verified tries', () => {
  it('fits the fixed cost and the seconds per media second of video units', () => {
    const units = [5, 10, 20, 40].map(m => verified('segment', m, 1.2 + 0.5 * m))
    units.push(verified('audio', 60, 3))
    const samples = unitSamples(units)
    expect(samples).toHaveLength(4)
    const cost = fitUnitCost(samples)
    expect(cost?.fixedSec).toBeCloseTo(1.2)
    expect(cost?.secPerMediaSec).toBeCloseTo(0.5)
  })

  it('says nothing from too few tries or lengths too alike', () => {
    expect(fitUnitCost([{ mediaSec: 5, wallSec: 3 }, { mediaSec: 20, wallSec: 10 }])).toBeNull()
    expect(fitUnitCost([6, 6, 6.5, 7].map(m => ({ mediaSec: m, wallSec: 3 + m })))).toBeNull()
  })

  it('sets the shortest segment the planner cuts, and so which files go whole', () => {
    const costly = { fixedSec: 6, secPerMediaSec: 0.5 }
    expect(minSegmentSec(costly)).toBeGreaterThan(minSegmentSec(DEFAULT_UNIT_COST))
    const idle = { converting: [], waiting: [], planning: 0 }
    const job = { durationSec: 60, sourceBytes: 1e8, slots: 2, ahead: idle, afterSec: 0, maxSegmentSec: 20 }
    expect(chooseCut(job)).toMatchObject({ whole: false })
    expect(chooseCut({ ...job, unitCost: costly })).toEqual({ whole: true, why: 'short' })
  })
})
