import { ErrorCodes, type ErrorBody } from '@ffmesh/protocol'
import type { Logger } from '../../logger.js'
import type { JobView } from '../../store/reduce.js'
import type { UnitOutcome, UnitRecord } from '../../store/records.js'
import type { JobComponents } from '../shared/deps.js'
import { recordEvent } from '../shared/record-event.js'
import { HELD_RETRY_MS } from '../shared/timing.js'
import { isHeld, isLeaseOf, isLive } from '../shared/unit-lease.js'
import type { OwnerState } from './owner-state.js'
import type { Quarantine } from './quarantine.js'
import { failureSignature } from './same-failure.js'

/** One attempt of one unit at one worker: what a revoke names. */
export interface LeaseRef { jobId: string, index: number, attempt: number, worker: string }

/** One term of a lease (jobs.leaseSeconds): how long a worker's heartbeat or a returned result keeps it. */
export function leaseTermMs (c: Pick<JobComponents, 'config'>): number {
  return Math.round(c.config.jobs.leaseSeconds * 1000)
}

/** What the lease's transitions keep in step: the owner's memory of units, and its quarantine. */
export interface LeaseParts { rt: OwnerState, quarantine: Quarantine, log: Logger }

/**
 * The owner's side of the unit lease (jobs/shared/unit-lease.ts has its table): each transition
 * logs its event, tells this node's listeners, sends the message the worker must hear (a grant, a
 * revoke) and keeps the owner's memory of the unit (owner-state.ts) in step, all in one place.
 */
export function createLeases (c: JobComponents, parts: LeaseParts) {
  const { rt, quarantine, log } = parts

  /** The one place a revoke is sent: the worker stops that attempt, or drops its claim on it. */
  async function revoke (ref: LeaseRef, why: string): Promise<void> {
    log.debug({ ...ref, why }, 'revoke')
    await c.bus
      .publish({ type: 'revoke', jobId: ref.jobId, index: ref.index, attempt: ref.attempt, worker: ref.worker })
      .catch(err => log.debug({ err, ...ref }, 'revoke not sent'))
  }

  /** Revokes the lease the unit holds now, if a worker holds it. */
  async function revokeHeld (u: UnitRecord, why: string): Promise<void> {
    if (!isHeld(u) || u.worker == null) return
    await revoke({ jobId: u.jobId, index: u.index, attempt: u.attempts, worker: u.worker }, why)
  }

  /**
   * Takes a unit back to pending: logged, told to this node's listeners, its lease forgotten. A
   * failure counts toward the worker's quarantine once the release is logged: a release whose
   * append failed is made again later (the expire step), and must not count the failure twice.
   */
  async function release (unit: UnitRecord, reason: ErrorBody, failure: boolean): Promise<void> {
    // Before the unit is pending in the log: an offer made right after must already keep it elsewhere.
    const state = rt.get(unit.jobId, unit.index)
    if (state.releasedAttempt === unit.attempts) return
    state.releasedAttempt = unit.attempts
    if (failure && unit.worker != null) state.lastFailure = { worker: unit.worker, at: c.clock() }
    try {
      await recordEvent(
        c,
        unit.jobId,
        { type: 'unit:released', index: unit.index, attempt: unit.attempts, reason, failure },
        { index: unit.index, data: { ...reason, failure } }
      )
    } catch (err) {
      // Not logged (a full disk): the expire step releases it again.
      state.releasedAttempt = null
      throw err
    }
    if (failure && unit.worker != null) countFailure(unit, unit.worker, reason)
    state.leaseUntil = null
    state.progress = 0
    state.phase = null
    state.lastOfferAt = 0
    state.ended = null
  }

  /**
   * A failed try counts toward its worker's quarantine, unless another worker failed the job the
   * same way: then its source is the cause (same-failure.ts), the job fails at its next step, and
   * every failure of that kind is taken back, with a quarantine one of them began. The owner's own
   * worker is never quarantined: it is the last resort for its own jobs.
   */
  function countFailure (unit: UnitRecord, worker: string, reason: ErrorBody): void {
    const failures = rt.failuresOf(unit.jobId)
    const signature = failureSignature(reason)
    if (signature != null && failures.same?.signature === signature) return
    const earlier = signature == null ? [] : failures.bySignature.get(signature) ?? []
    const other = earlier.find(f => f.worker !== worker)
    if (signature != null && other != null) {
      failures.same = { index: unit.index, signature, reason, workers: [other.worker, worker] }
      for (const f of earlier) if (f.worker !== c.mesh.peerId) quarantine.forgive(f.worker, f.quarantined)
      failures.bySignature.delete(signature)
      log.info({ jobId: unit.jobId, index: unit.index, workers: failures.same.workers }, 'job failed the same way on two workers')
      return
    }
    const quarantined = worker !== c.mesh.peerId && quarantine.recordFailure(worker)
    if (signature != null) failures.bySignature.set(signature, [...earlier, { worker, quarantined }])
    if (!quarantined) return
    log.warn({ peer: worker, seconds: c.config.jobs.quarantineSeconds }, 'peer quarantined after repeated failures')
    c.events.emit('peer:quarantined', {
      peerId: worker,
      data: { untilMs: c.clock() + c.config.jobs.quarantineSeconds * 1000 }
    })
  }

  return {
    revoke,
    release,

    /**
     * Logs a lease of the unit to `worker` for `attempt`, and only then tells the worker. Returns
     * false when the lease did not take (the unit moved on meanwhile, or the worker was quarantined
     * while the lease was being logged: then the unit is offered again, not as a failure).
     */
    async grant (jobId: string, index: number, worker: string, attempt: number): Promise<boolean> {
      const leaseMs = leaseTermMs(c)
      const asked = c.clock()
      const leaseUntil = asked + leaseMs
      await c.store.append(jobId, { type: 'unit:leased', index, worker, attempt, leaseUntil })
      // The table refuses a lease that is not the next one from pending: then this one did not take.
      const leased = c.store.job(jobId)?.units[index]
      if (leased == null || !isLeaseOf(leased, worker, attempt)) return false
      // A failure heard while the lease was being logged may have quarantined this worker since it
      // was chosen. It is not told; the unit is offered again (not a failure: it never started).
      if (quarantine.isQuarantined(worker)) {
        await release(
          leased,
          { code: ErrorCodes.UNIT_REASSIGNED, message: `${worker} was quarantined while its lease was being logged` },
          false
        )
        return false
      }
      const state = rt.get(jobId, index)
      state.leaseUntil = leaseUntil
      state.phase = null
      state.offeredSince = null
      log.debug({ jobId, index, attempt, worker, logMs: c.clock() - asked }, 'granted')
      c.events.emit('unit:leased', { jobId, index, peerId: worker, data: { attempt } })
      await c.bus.publish({ type: 'grant', jobId, index, attempt, worker, leaseMs })
      return true
    },

    /** The lease's worker started converting (its heartbeat said so). */
    converting: async (unit: UnitRecord, attempt: number): Promise<void> =>
      await recordEvent(c, unit.jobId, { type: 'unit:converting', index: unit.index, attempt }, {
        index: unit.index,
        peerId: unit.worker ?? undefined
      }),

    /**
     * The current lease's result is here and being checked. Its worker sends no more heartbeats, so
     * the lease runs one full term from now: a check that outlasts what was left of it (a slow
     * probe on a busy owner) must not expire a unit whose result is already in hand.
     */
    async returned (unit: UnitRecord, attempt: number, peer: string): Promise<void> {
      await recordEvent(c, unit.jobId, { type: 'unit:returned', index: unit.index, attempt }, {
        index: unit.index,
        peerId: peer
      })
      rt.get(unit.jobId, unit.index).leaseUntil = c.clock() + leaseTermMs(c)
    },

    /**
     * The first checked result of the unit counts. A lease held by another worker (the result of an
     * earlier, expired lease beat it) is revoked.
     */
    async verify (unit: UnitRecord, attempt: number, peer: string, result: UnitOutcome): Promise<void> {
      const { jobId, index } = unit
      await recordEvent(c, jobId, { type: 'unit:verified', index, worker: peer, attempt, result }, {
        index,
        peerId: peer,
        data: { frames: result.frames }
      })
      const state = rt.get(jobId, index)
      state.progress = 1
      state.leaseUntil = null
      if (unit.worker !== peer) await revokeHeld(unit, 'a result of an earlier lease was verified')
    },

    /** The worker stopped reporting: its lease ends, as a failed try. */
    async expire (unit: UnitRecord): Promise<void> {
      log.info({ jobId: unit.jobId, index: unit.index, worker: unit.worker }, 'lease expired')
      await revoke(
        { jobId: unit.jobId, index: unit.index, attempt: unit.attempts, worker: unit.worker ?? c.mesh.peerId },
        'lease expired'
      )
      await release(
        unit,
        { code: ErrorCodes.CONVERT_TIMEOUT, message: `lease expired: worker ${unit.worker ?? '?'} stopped reporting` },
        true
      )
    },

    /** The unit waits on its worker while another stands idle: it is taken back and offered again. */
    async reassign (unit: UnitRecord, message: string): Promise<void> {
      await revokeHeld(unit, 'reassigned')
      await release(unit, { code: ErrorCodes.UNIT_REASSIGNED, message }, false)
    },

    /**
     * Leases of remote workers get a grace to report in (after a restart, or after the job was held
     * for want of disk): a worker that finished meanwhile sends no heartbeat but offers its held
     * result again within HELD_RETRY_MS; expiring its lease sooner would convert that unit again.
     */
    rearm (view: JobView, now: number): void {
      const graceMs = HELD_RETRY_MS + 2 * leaseTermMs(c)
      for (const u of view.units) if (isLive(u)) rt.get(u.jobId, u.index).leaseUntil = now + graceMs
    },

    /** Tells every worker that holds a unit of the job to stop (the job failed or was cancelled). */
    async revokeJob (view: JobView, why: string): Promise<void> {
      for (const u of view.units) await revokeHeld(u, why)
    }
  }
}

export type Leases = ReturnType<typeof createLeases>
