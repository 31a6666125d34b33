import { describe, expect, it } from 'vitest'
import { ErrorCodes, UnitStates, type ErrorBody, type UnitState } from '@ffmesh/protocol'
import { jobRecord, unitRecord } from '../../../../../test/fixtures/job-log.js'
import { reduce, type JobView } from '../../store/reduce.js'
import type { JobEvent, UnitRecord } from '../../store/records.js'
import { nextUnitState, UNIT_TRANSITIONS, type UnitTransitionEvent } from './unit-lease.js'

/** The attempt an event names, relative to the unit's two leases so far. */
const ATTEMPTS = { next: 3, current: 2, stale: 1 } as const
type Named = keyof typeof ATTEMPTS
const ALL_NAMED: Named[] = ['next', 'current', 'stale']
const UNVERIFIED: UnitState[] = ['pending', 'leased', 'converting', 'returned']

/**
 * What the lease allows, written out once more by hand: the table must say the same. Each row is
 * an event, the states it may leave, the attempts it may name, and the state it enters.
 */
const EXPECTED: Array<[UnitTransitionEvent, UnitState[], Named[], UnitState]> = [
  ['unit:leased', ['pending'], ['next'], 'leased'],
  ['unit:converting', ['leased'], ['current'], 'converting'],
  ['unit:returned', UNVERIFIED, ALL_NAMED, 'returned'],
  ['unit:verified', UNVERIFIED, ALL_NAMED, 'verified'],
  ['unit:released', ['leased', 'converting', 'returned'], ['current'], 'pending'],
  ['job:retried', UNVERIFIED, ALL_NAMED, 'pending']
]

const WORKER = '12D3KooWLZd1ovTLzMaBH93PVtzD7HU5cycoXRwWNJEwneGoPj5G'

function unitIn (state: UnitState): UnitRecord {
  return { ...unitRecord('j', 0), state, attempts: ATTEMPTS.current, worker: state === 'pending' ? null : WORKER }
}

function logged (type: UnitTransitionEvent, attempt: number): JobEvent {
  const result = { hash: 'c'.repeat(128), size: 1, frames: 144, durationSec: 6 }
  const reason: ErrorBody = { code: ErrorCodes.CONVERT_FAILED, message: 'test' }
  switch (type) {
    case 'unit:leased': return { type, index: 0, worker: WORKER, attempt, leaseUntil: 1 }
    case 'unit:converting': return { type, index: 0, attempt }
    case 'unit:returned': return { type, index: 0, attempt }
    case 'unit:verified': return { type, index: 0, worker: WORKER, attempt, result }
    case 'unit:released': return { type, index: 0, attempt, reason, failure: true }
    case 'job:retried': return { type }
  }
}

/** The unit's state after the job log's reducer applied `event`, or null when it changed nothing. */
function reduced (unit: UnitRecord, event: JobEvent): UnitState | null {
  const view: JobView = { job: jobRecord('j', { state: 'running', unitCount: 1 }), units: [unit] }
  return reduce(view, event, 10).units[0]?.state ?? null
}

const cases = Object.keys(UNIT_TRANSITIONS).flatMap(type =>
  UnitStates.flatMap(state => ALL_NAMED.map(named => ({ type: type as UnitTransitionEvent, state, named }))))

describe('the unit lease', () => {
  it('has a row for exactly the events written out here', () => {
    expect(Object.keys(UNIT_TRANSITIONS).sort()).toEqual(EXPECTED.map(([type]) => type).sort())
  })

  it.each(cases)('$type from $state naming the $named attempt', ({ type, state, named }) => {
    const row = EXPECTED.find(([t]) => t === type)
    const want = row != null && row[1].includes(state) && row[2].includes(named) ? row[3] : null
    const unit = unitIn(state)
    // The machine allows the pair and enters the state written out above, or refuses it...
    expect(nextUnitState(unit, type, ATTEMPTS[named])).toBe(want)
    // ...and the job log's reducer does the same: a refused event changes nothing.
    expect(reduced(unit, logged(type, ATTEMPTS[named]))).toBe(want)
  })

  // The same event logged twice (a retried append, say) meets the state the first one made. Only a
  // result that arrives again and a retry of a pending unit are applied a second time: a second
  // release finds no lease to end, so it spends no second try.
  it.each([
    ['unit:leased', 'pending', 'next', null],
    ['unit:converting', 'leased', 'current', null],
    ['unit:returned', 'converting', 'current', 'returned'],
    ['unit:verified', 'returned', 'current', null],
    ['unit:released', 'converting', 'current', null],
    ['job:retried', 'leased', 'current', 'pending']
  ] as Array<[UnitTransitionEvent, UnitState, Named, UnitState | null]>)('%s twice from %s: the second gives %s', (
    type,
    state,
    named,
    second
  ) => {
    const event = logged(type, ATTEMPTS[named])
    const first = reduce({ job: jobRecord('j', { state: 'running' }), units: [unitIn(state)] }, event, 10).units[0]
    expect(first).toBeDefined()
    const again = reduced(first as UnitRecord, event)
    expect(again).toBe(second)
    expect(nextUnitState(first as UnitRecord, type, ATTEMPTS[named])).toBe(again)
  })
})
