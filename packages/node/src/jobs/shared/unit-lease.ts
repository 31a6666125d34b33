import { UnitStates, type UnitState } from '@ffmesh/protocol'
import type { UnitRecord } from '../../store/records.js'

/**
 * The life of one unit's lease, as one table: for each unit event, the states it may leave, the
 * state it enters, and which attempt it must name. The job log's reducer applies unit events
 * through it, and the owner asks the predicates below instead of comparing states by hand.
 *
 *   pending --leased--> leased --converting--> converting --returned--> returned --verified--> verified
 *      ^                  |                      |                        |
 *      +----- released ---+----------------------+------------------------+
 */

/** The fields of a unit the machine reads. */
export interface LeasedUnit { state: UnitState, attempts: number, worker: string | null }

/** Unit events of the job log that move a unit, and `job:retried`, which moves every unverified unit. */
export type UnitTransitionEvent = 'unit:leased' | 'unit:converting' | 'unit:returned' | 'unit:verified' |
  'unit:released' | 'job:retried'

/**
 * Which attempt an event must name: `next` (a new lease answers to one attempt more than the unit
 * has had), `current` (the lease the unit holds now), or `any` (a result counts whichever lease it
 * answers: the first verified result wins, even a late one).
 */
export type AttemptRule = 'next' | 'current' | 'any'

export interface UnitTransition {
  readonly from: readonly UnitState[]
  readonly to: UnitState
  readonly attempt: AttemptRule
}

/** Every state but `verified`: a verified result is final (only a new job could convert it again). */
const UNVERIFIED: readonly UnitState[] = UnitStates.filter(s => s !== 'verified')

/** The states of a unit under a lease: granted, converting, or its result arriving. */
const LEASED: readonly UnitState[] = ['leased', 'converting', 'returned']

/** The transition table. A (state, event) pair not in it changes nothing, so a replayed event is harmless. */
export const UNIT_TRANSITIONS: Readonly<Record<UnitTransitionEvent, UnitTransition>> = {
  // One lease at a time: granted only from pending, for the next attempt.
  'unit:leased': { from: ['pending'], to: 'leased', attempt: 'next' },
  // The lease's worker said it started converting (its heartbeat's phase).
  'unit:converting': { from: ['leased'], to: 'converting', attempt: 'current' },
  // A result is arriving; the owner logs it only for the current lease, the log takes it as written.
  'unit:returned': { from: UNVERIFIED, to: 'returned', attempt: 'any' },
  'unit:verified': { from: UNVERIFIED, to: 'verified', attempt: 'any' },
  // The lease ended without a result (failed, expired, moved, its worker gone): offered again.
  // Only a lease can end: a pending unit has none, so a release logged twice spends one try, not two.
  'unit:released': { from: LEASED, to: 'pending', attempt: 'current' },
  // A person retried the job: every unit without a result starts again.
  'job:retried': { from: UNVERIFIED, to: 'pending', attempt: 'any' }
}

/** The state `event` takes `unit` to, or null when the table does not allow it. */
export function nextUnitState (unit: LeasedUnit, event: UnitTransitionEvent, attempt?: number): UnitState | null {
  const t = UNIT_TRANSITIONS[event]
  if (!t.from.includes(unit.state)) return null
  if (t.attempt === 'next' && attempt !== unit.attempts + 1) return null
  if (t.attempt === 'current' && attempt !== unit.attempts) return null
  return t.to
}

/** Under a lease that can still end in a result: granted, converting, or its result arriving. */
export const isLive = (u: LeasedUnit): boolean => LEASED.includes(u.state)

/**
 * Held by its worker: granted or converting, not yet returned. Such a worker sends heartbeats,
 * may fetch the unit's inputs, and is told when the lease ends (a revoke).
 */
export const isHeld = (u: LeasedUnit): boolean => u.state === 'leased' || u.state === 'converting'

/** Whether `worker`'s lease at `attempt` is the unit's current one, in one of `states` (held by default). */
export function isLeaseOf (
  u: LeasedUnit,
  worker: string,
  attempt: number,
  inState: (u: LeasedUnit) => boolean = isHeld
): boolean {
  return u.worker === worker && u.attempts === attempt && inState(u)
}

/** Waiting to be offered and granted. */
/** A unit as its plan makes it: pending, never leased, no try made, nothing returned. */
export const NOT_STARTED = {
  state: 'pending',
  worker: null,
  attempts: 0,
  failures: 0,
  leaseUntil: null,
  lastError: null,
  result: null
} as const satisfies Partial<UnitRecord>

export const isPending = (u: LeasedUnit): boolean => u.state === 'pending'
/** Its result is checked and kept; nothing changes it again. */
export const isVerified = (u: LeasedUnit): boolean => u.state === 'verified'
