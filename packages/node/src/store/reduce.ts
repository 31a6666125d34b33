import { MAX_UNIT_TRIES, TERMINAL_JOB_STATES, type UnitTry } from '@ffmesh/protocol'
import type { JobRecord, JobEvent, LoggedEvent, UnitRecord } from './records.js'
import { nextUnitState, type UnitTransitionEvent } from '../jobs/shared/unit-lease.js'

export interface JobView { job: JobRecord, units: UnitRecord[] }

/** What one event changed: the job's record, the unit records it rewrote, and whether all of them go. */
export interface Change { job?: JobRecord, units: UnitRecord[], dropUnits?: boolean }

/**
 * Applies one event to a job's view and returns the records it changed. Pure, so the log can be
 * replayed and the rules tested without LevelDB. Events that do not fit the current state (a
 * late event for a verified unit, say) change nothing: the first verified result stays.
 */
export function reduce (
  view: JobView | undefined,
  event: JobEvent,
  time: number
): Change {
  if (event.type === 'job:submitted') return { job: { ...event.job, updatedAt: time }, units: [] }
  if (view == null) return { units: [] }
  const job = view.job
  const touch = (patch: Partial<JobRecord>): JobRecord => ({ ...job, ...patch, updatedAt: time })
  const unitAt = (index: number): UnitRecord | undefined => view.units[index]
  const changeUnit = (
    index: number,
    patch: (u: UnitRecord) => Partial<UnitRecord> | null
  ): Change => {
    const unit = unitAt(index)
    if (unit == null) return { units: [] }
    const p = patch(unit)
    return p == null ? { units: [] } : { job: touch({}), units: [{ ...unit, ...p }] }
  }
  /** A unit event through the lease's transition table (unit-lease.ts): one it does not allow changes nothing. */
  const moveUnit = (
    index: number,
    type: UnitTransitionEvent,
    attempt: number,
    patch: (u: UnitRecord) => Omit<Partial<UnitRecord>, 'state'>
  ): Change =>
    changeUnit(index, u => {
      const state = nextUnitState(u, type, attempt)
      return state == null ? null : { state, ...patch(u) }
    })
  switch (event.type) {
    // Units are appended after those an earlier part of the plan logged. A job cancelled while it
    // was being planned keeps its state (and the units, for a retry).
    case 'job:units-planned':
      return {
        job: touch({
          state: job.state === 'queued' ? 'running' : job.state,
          planning: true,
          unitCount: view.units.length + event.units.length
        }),
        units: event.units
      }
    case 'job:planned':
      return {
        job: touch({
          state: job.state === 'queued' ? 'running' : job.state,
          planning: false,
          sourceHash: event.sourceHash ?? job.sourceHash,
          info:
            event.info ??
            (event.videoFrames != null && job.info != null
              ? { ...job.info, videoFrames: event.videoFrames }
              : job.info),
          normalised: event.normalised ?? job.normalised ?? null,
          unitCount: view.units.length + event.units.length
        }),
        units: event.units
      }
    case 'unit:leased':
      // A lease is granted only from pending, for the next attempt: never two at once.
      return moveUnit(event.index, event.type, event.attempt, u => ({
        worker: event.worker,
        attempts: Math.max(u.attempts, event.attempt),
        leaseUntil: event.leaseUntil,
        tries: [
          ...(u.tries ?? []),
          {
            worker: event.worker,
            attempt: event.attempt,
            leasedAt: time,
            convertingAt: null,
            endedAt: null,
            outcome: null
          }
        ].slice(-MAX_UNIT_TRIES)
      }))
    case 'unit:converting':
      return moveUnit(event.index, event.type, event.attempt, u => ({
        tries: patchTry(u, event.attempt, { convertingAt: time })
      }))
    case 'unit:returned':
      return moveUnit(event.index, event.type, event.attempt, () => ({}))
    case 'unit:verified':
      return moveUnit(event.index, event.type, event.attempt, u => ({
        worker: event.worker,
        result: event.result,
        leaseUntil: null,
        lastError: null,
        tries: patchTry(u, event.attempt, { endedAt: time, outcome: 'verified' }, true)
      }))
    case 'unit:released':
      return moveUnit(event.index, event.type, event.attempt, u => ({
        worker: null,
        leaseUntil: null,
        lastError: event.reason,
        failures: u.failures + (event.failure ? 1 : 0),
        tries: patchTry(u, event.attempt, { endedAt: time, outcome: 'released' })
      }))
    case 'job:assembling':
      // Each assembly places its own output: a swap an earlier one logged and did not finish is void.
      return { job: touch({ state: 'assembling', swap: null }), units: [] }
    case 'job:done':
      return {
        job: touch({
          state: 'done',
          output: event.output,
          error: null,
          outputSize: event.outputSize ?? null,
          swap: null
        }),
        units: []
      }
    case 'job:probed':
      return { job: touch({ info: event.info, profile: event.profile ?? job.profile }), units: [] }
    case 'job:skipped':
      return {
        job: touch({
          state: 'skipped',
          reason: event.reason,
          error: null,
          outputSize: event.outputSize ?? null,
          swap: null
        }),
        units: []
      }
    case 'job:swap-started':
      return { job: touch({ swap: event.swap }), units: [] }
    case 'job:failed':
      return { job: touch({ state: 'failed', error: event.error }), units: [] }
    case 'job:cancelled':
      // A cancel that waited in the log's queue behind the job's end leaves the job as it ended.
      if (TERMINAL_JOB_STATES.includes(job.state)) return { units: [] }
      return { job: touch({ state: 'cancelled' }), units: [] }
    case 'job:handoff-sent':
      return { job: touch({ handoffTo: event.to }), units: [] }
    case 'job:handed-off':
      return { job: touch({ owner: event.to, handoffTo: event.to, state: 'running' }), units: [] }
    case 'job:remote-state':
      return { job: touch({ state: event.state, error: event.error }), units: [] }
    case 'job:delivered':
      return { job: touch({ delivered: true }), units: [] }
    case 'job:damaged':
      return { job: touch({ attention: event.reason }), units: [] }
    case 'job:blobs-freed':
      return { job: touch({ blobsFreed: true }), units: [] }
    case 'job:compacted':
      // Not a change of the job's state: its time stays when it ended (stats count it by that day).
      if (job.state !== 'done') return { units: [] }
      return {
        job: {
          ...job,
          compacted: event.summary,
          ...(event.eventsFrom != null ? { eventsFrom: event.eventsFrom } : {})
        },
        units: [],
        dropUnits: true
      }
    case 'job:removed':
      return { units: [] }
    case 'job:retried': {
      // A person looked at the job: a mark of lost records is cleared with the rest.
      const units = view.units.flatMap(u => {
        const state = nextUnitState(u, event.type)
        return state == null ? [] : [{ ...u, state, worker: null, leaseUntil: null, failures: 0, lastError: null }]
      })
      return {
        job: touch({
          state: view.units.length > 0 ? 'running' : 'queued',
          error: null,
          attention: null,
          ...(event.owner != null ? { owner: event.owner } : {})
        }),
        units
      }
    }
  }
}

/**
 * A job's view rebuilt from its events, in order, with the event count and last record number the
 * store keeps beside it: what the views must equal (tests), and how `ffmesh repair` restores views
 * whose records were lost while the events survived.
 */
export function replay (history: LoggedEvent[]): JobView | undefined {
  let view: JobView | undefined
  history.forEach((e, i) => {
    const change = reduce(view, e.event, e.time)
    if (change.job != null) view = { job: change.job, units: [...(view?.units ?? [])] }
    if (view == null) return
    if (change.dropUnits === true) view.units = []
    for (const u of change.units) view.units[u.index] = u
    view.job = { ...view.job, eventCount: e.jobSeq ?? i + 1, lastSeq: e.seq }
  })
  return view
}

/**
 * The unit's tries with the one for `attempt` patched. A try that ended keeps its end, except for
 * a verified result: a late result of a released try can still be the one that counts.
 */
function patchTry (
  unit: UnitRecord,
  attempt: number,
  patch: Partial<UnitTry>,
  evenIfEnded = false
): UnitTry[] | undefined {
  if (unit.tries == null) return undefined
  return unit.tries.map(t => (t.attempt === attempt && (t.endedAt == null || evenIfEnded) ? { ...t, ...patch } : t))
}
