import type { ErrorBody } from '@ffmesh/protocol'
import type { Logger } from '../../logger.js'
import type { UnitRecord } from '../../store/records.js'
import type { JobComponents } from '../shared/deps.js'
import type { OwnerState } from './owner-state.js'
import type { Quarantine } from './quarantine.js'

export type ReleaseUnit = (unit: UnitRecord, reason: ErrorBody, failure: boolean) => Promise<void>

/**
 * The owner takes a unit back to pending: logged, told to this node's listeners, its lease
 * forgotten. A failure counts toward the worker's quarantine.
 */
export function createRelease (
  c: JobComponents,
  rt: OwnerState,
  init: { quarantine: Quarantine; log: Logger }
): ReleaseUnit {
  const { quarantine, log } = init
  return async (unit, reason, failure) => {
    // The owner's own worker is never quarantined: it is the last resort for its own jobs.
    if (failure && unit.worker != null && unit.worker !== c.mesh.peerId && quarantine.recordFailure(unit.worker)) {
      log.warn(
        { peer: unit.worker, seconds: c.config.jobs.quarantineSeconds },
        'peer quarantined after repeated failures'
      )
      c.events.emit('peer:quarantined', {
        peerId: unit.worker,
        data: { untilMs: c.clock() + c.config.jobs.quarantineSeconds * 1000 }
      })
    }
    await c.store.append(unit.jobId, {
      type: 'unit:released',
      index: unit.index,
      attempt: unit.attempts,
      reason,
      failure
    })
    c.events.emit('unit:released', { jobId: unit.jobId, index: unit.index, data: { ...reason, failure } })
    const state = rt.get(unit.jobId, unit.index)
    state.leaseUntil = null
    state.progress = 0
    state.phase = null
    state.lastOfferAt = 0
  }
}
