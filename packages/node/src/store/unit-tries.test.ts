import { describe, expect, it } from 'vitest'
import { MAX_UNIT_TRIES, newJobId } from '@ffmesh/protocol'
import { jobRecord, unitRecord } from '../../../../test/fixtures/job-log.js'
import { reduce, type JobView } from './reduce.js'
import type { JobEvent } from './records.js'

const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
const RESULT = { hash: 'c'.repeat(128), size: 1, frames: 144, durationSec: 6 }

/** Applies timed events to a fresh one-unit job; returns unit 0. */
function run (events: Array<[number, JobEvent]>): JobView['units'][number] {
  const id = newJobId()
  let view: JobView = { job: jobRecord(id), units: [unitRecord(id, 0)] }
  for (const [time, event] of events) {
    const change = reduce(view, event, time)
    view = { job: change.job ?? view.job, units: view.units.map(u => change.units.find(c => c.index === u.index) ?? u) }
  }
  return view.units[0] as JobView['units'][number]
}

describe('a unit keeps its tries with their times (the dashboard timeline)', () => {
  it('records who had it from lease to end, when ffmpeg started, and how each try ended', () => {
    const unit = run([
      [100, { type: 'unit:leased', index: 0, worker: A, attempt: 1, leaseUntil: 9e9 }],
      [150, { type: 'unit:converting', index: 0, attempt: 1 }],
      [
        400,
        { type: 'unit:released', index: 0, attempt: 1, reason: { code: 'CONVERT_FAILED', message: 'x' }, failure: true }
      ],
      [500, { type: 'unit:leased', index: 0, worker: B, attempt: 2, leaseUntil: 9e9 }],
      [520, { type: 'unit:converting', index: 0, attempt: 2 }],
      [900, { type: 'unit:verified', index: 0, worker: B, attempt: 2, result: RESULT }],
      // A late result of the first try changes nothing: the first verified one stays.
      [950, { type: 'unit:verified', index: 0, worker: A, attempt: 1, result: RESULT }]
    ])
    expect(unit.tries).toEqual([
      { worker: A, attempt: 1, leasedAt: 100, convertingAt: 150, endedAt: 400, outcome: 'released' },
      { worker: B, attempt: 2, leasedAt: 500, convertingAt: 520, endedAt: 900, outcome: 'verified' }
    ])
  })

  it('counts a late result of a released try as that try verified', () => {
    const unit = run([
      [100, { type: 'unit:leased', index: 0, worker: A, attempt: 1, leaseUntil: 9e9 }],
      [
        300,
        {
          type: 'unit:released',
          index: 0,
          attempt: 1,
          reason: { code: 'CONVERT_TIMEOUT', message: 'lease expired' },
          failure: true
        }
      ],
      [350, { type: 'unit:verified', index: 0, worker: A, attempt: 1, result: RESULT }]
    ])
    expect(unit.tries).toEqual([
      { worker: A, attempt: 1, leasedAt: 100, convertingAt: null, endedAt: 350, outcome: 'verified' }
    ])
  })

  it(`keeps the last ${MAX_UNIT_TRIES} tries of a unit that keeps being handed back`, () => {
    const events: Array<[number, JobEvent]> = []
    for (let attempt = 1; attempt <= MAX_UNIT_TRIES + 5; attempt++) {
      events.push([attempt * 10, { type: 'unit:leased', index: 0, worker: A, attempt, leaseUntil: 9e9 }])
      events.push([
        attempt * 10 + 5,
        { type: 'unit:released', index: 0, attempt, reason: { code: 'UNIT_REASSIGNED', message: 'x' }, failure: false }
      ])
    }
    const tries = run(events).tries ?? []
    expect(tries).toHaveLength(MAX_UNIT_TRIES)
    expect(tries[0]?.attempt).toBe(6)
    expect(tries.every(t => t.outcome === 'released')).toBe(true)
  })
})
