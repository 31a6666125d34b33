import { ErrorCodes, type WireErrorCode } from '@ffmesh/protocol'
import type { JobComponents } from '../shared/deps.js'
import type { JobMessageOf } from '../shared/message-router.js'
import { isLeaseOf, isLive, nextUnitState } from '../shared/unit-lease.js'
import { leaseTermMs, type Leases } from './lease.js'
import { BUSY_BACKOFF_MS, REFUSAL_BACKOFF_MS, type OwnerState } from './owner-state.js'
import { nextAnchor, workerSpeed } from './progress-estimate.js'

/** Refusals that say the worker cannot do this unit at all, as opposed to a failed try. */
const REFUSALS: readonly WireErrorCode[] = [
  'DISK_FULL',
  'UNSUPPORTED_PROFILE',
  'BUSY',
  'TOO_LARGE',
  'OWNER_UNREACHABLE'
]

export interface WorkerReportParts { rt: OwnerState, leases: Leases }

/**
 * What workers tell the owner about the units it offered or leased to them: heartbeats (the lease
 * goes on, and how far the unit is) and rejections (a refusal of an offer, or a failed try).
 */
export function createWorkerReports (c: JobComponents, parts: WorkerReportParts) {
  const { rt, leases } = parts

  async function onHeartbeat (m: JobMessageOf<'heartbeat'>, from: string): Promise<void> {
    const unit = c.store.job(m.jobId)?.units[m.index]
    if (unit == null || !isLeaseOf(unit, from, m.attempt)) return
    const state = rt.get(m.jobId, m.index)
    const now = c.clock()
    state.leaseUntil = now + leaseTermMs(c)
    state.anchor = nextAnchor(state.anchor, m, now)
    state.progress = m.progress
    state.phase = m.phase
    state.heardAt = now
    // An audio unit's speed says nothing of the worker's video encodes.
    const speed = unit.spec.kind === 'audio' ? null : workerSpeed(state, unit.spec.durationSec)
    if (speed != null) rt.speeds.set(from, speed)
    // The first heartbeat that says so moves the lease on (the table allows it only from leased).
    if (m.phase === 'converting' && nextUnitState(unit, 'unit:converting', m.attempt) != null) {
      await leases.converting(unit, m.attempt)
    }
    c.events.emit('unit:progress', {
      jobId: m.jobId,
      index: m.index,
      peerId: from,
      data: { phase: m.phase, progress: m.progress }
    })
  }

  async function onReject (m: JobMessageOf<'reject'>, from: string): Promise<void> {
    const view = c.store.job(m.jobId)
    const unit = view?.units[m.index]
    if (view == null || unit == null) return
    const code = m.code as WireErrorCode
    // This node's own full disk holds the whole job already (holdReason); no refusal to wait out.
    // A done job's runtime was let go (owner.ts): a late refusal must not make it again, never freed.
    if (
      REFUSALS.includes(code) &&
      !(code === 'DISK_FULL' && from === c.mesh.peerId) &&
      view.job.state !== 'done'
    ) {
      const refusal = { code, message: m.message, until: c.clock() + (code === 'BUSY' ? BUSY_BACKOFF_MS : REFUSAL_BACKOFF_MS) }
      // A missing encoder, a full disk or no route to this node holds for every unit of the job.
      const scope =
        code === 'UNSUPPORTED_PROFILE' || code === 'DISK_FULL' || code === 'OWNER_UNREACHABLE'
          ? view.units
          : [unit]
      for (const u of scope) rt.get(u.jobId, u.index).refusals.set(from, refusal)
    }
    c.events.emit('peer:rejected', { jobId: m.jobId, index: m.index, peerId: from, data: { code, message: m.message } })
    // Its result may be logged as arriving (`returned`): this node's own worker, whose result's check
    // could not be recorded (a full job log), removed it and said so. Nothing else ends that lease.
    if (isLeaseOf(unit, from, m.attempt, isLive)) {
      const failed = code === 'TIMEOUT' ? ErrorCodes.CONVERT_TIMEOUT : ErrorCodes.CONVERT_FAILED
      const ended = {
        attempt: m.attempt,
        reason: {
          code: failed,
          // The worker's code leads the message only where it says more than the reason's own code.
          message: `${code === failed ? '' : `${code} `}from ${from}: ${m.message}`
        },
        failure: !REFUSALS.includes(code)
      }
      // Kept until the release is logged: the worker sends no second reject if this one is lost.
      rt.get(m.jobId, m.index).ended = ended
      await leases.release(unit, ended.reason, ended.failure)
    }
  }

  return { onHeartbeat, onReject }
}
