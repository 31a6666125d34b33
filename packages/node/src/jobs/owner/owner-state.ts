import { unitKey, type ErrorBody } from '@ffmesh/protocol'
import type { ProgressAnchor } from './progress-estimate.js'
import type { LastFailure } from './retry-elsewhere.js'
import type { JobFailures } from './same-failure.js'

/** How long a refusal (DISK_FULL, UNSUPPORTED_PROFILE, …) keeps a unit away from that worker. */
export const REFUSAL_BACKOFF_MS = 30_000
/**
 * Claims that arrive within this window after the first are compared; the freest worker wins. A
 * claim from the worker the offer named first (its likely winner, this node's own included) is
 * granted without the wait.
 */
export const CLAIM_WINDOW_MS = 150
/** A pending unit is offered again after this long without a grant. */
export const REOFFER_MS = 3_000
/**
 * How long a BUSY (no room for a grant that came late, or paused) keeps the unit from that worker:
 * one re-offer. Its advert says when it has room or resumes; 30 s kept an idle worker off the
 * last clip of a batch.
 */
export const BUSY_BACKOFF_MS = REOFFER_MS
/** A job whose pending units drew no claim for this long says why in `status`. */
export const WAITING_AFTER_MS = 10_000

export interface UnitRuntime {
  lastOfferAt: number
  offeredSince: number | null
  claims: Array<{ worker: string, attempt: number, at: number }>
  /** When the owner last found unchanged the source this unit reads itself (a whole unit; offers.ts). */
  sourceCheckedAt: number
  /** The first candidate of the last offer: the freest worker by the adverts, when offered. */
  favourite: string | null
  /**
   * The busy worker the last offer of a whole unit invited to fetch it ahead of its free slot
   * (busy-time.ts wholePrefetcher); the grant lets only it take the unit without a free slot.
   */
  prefetcher: string | null
  refusals: Map<string, { code: string, message: string, until: number }>
  /** Heartbeats extend a lease in memory; the log keeps the grant, not every renewal. */
  leaseUntil: number | null
  progress: number
  /** A grant is being logged (the view still says pending); claims meanwhile wait for its answer. */
  granting: boolean
  /** Workers that claimed this unit while its grant was being logged: answered once it is (grants.ts). */
  claimedWhileGranting: Set<string>
  /**
   * Moved once to an idle worker at the end of its job. Never again: if that worker does not claim
   * it after all (busy for another owner), it goes back to a busy one and stays there.
   */
  moved: boolean
  /** The phase the current lease's worker last reported, and when (this process's memory only). */
  phase: 'fetching' | 'converting' | 'returning' | null
  heardAt: number
  /** The current attempt's first report of its encode, which its speed is measured from (progress-estimate.ts). */
  anchor: ProgressAnchor | null
  /**
   * The lease's worker ended this attempt (a reject) and the release is not logged yet: the log
   * failed (its disk full), so the expire step logs it, as what the worker said, not as a worker
   * that stopped reporting (which would spend a try that a refusal does not).
   */
  ended: { attempt: number, reason: ErrorBody, failure: boolean } | null
  /**
   * The attempt whose release is logged or being logged. The worker's reject and the expire step
   * can both find a lease live before either's release is logged; the second must neither log
   * nor count the try again (a worker would reach quarantine one real failure early).
   */
  releasedAttempt: number | null
  /** Its last failed try: the next goes to another worker where one can take it (retry-elsewhere.ts). */
  lastFailure: LastFailure | null
}

/**
 * The owner's memory of what is in flight, not worth logging: offers, claims, refusals, lease
 * renewals and progress. Lost on restart by design: leases are re-armed from the log with a grace.
 */
export function createOwnerState () {
  const units = new Map<string, UnitRuntime>()
  /**
   * The media seconds a millisecond of each worker's last video encode converted (progress-estimate.ts
   * workerSpeed): how fast a unit it has just begun is taken to go. Only workers that held a
   * lease of this owner's report one.
   */
  const speeds = new Map<string, number>()
  /** Each job's conversion failures (same-failure.ts). */
  const failures = new Map<string, JobFailures>()
  const get = (jobId: string, index: number): UnitRuntime => {
    const key = unitKey(jobId, index)
    let rt = units.get(key)
    if (rt == null) {
      rt = {
        lastOfferAt: 0,
        offeredSince: null,
        claims: [],
        sourceCheckedAt: 0,
        favourite: null,
        prefetcher: null,
        refusals: new Map(),
        leaseUntil: null,
        progress: 0,
        granting: false,
        claimedWhileGranting: new Set(),
        moved: false,
        phase: null,
        heardAt: 0,
        anchor: null,
        ended: null,
        releasedAttempt: null,
        lastFailure: null
      }
      units.set(key, rt)
    }
    return rt
  }
  return {
    /** Set when the owner stops: nothing is planned, granted or checked after that. */
    stopping: false,
    get,
    speeds,
    peek: (jobId: string, index: number): UnitRuntime | undefined => units.get(unitKey(jobId, index)),
    forgetJob (jobId: string): void {
      for (const key of units.keys()) if (key.startsWith(`${jobId}:`)) units.delete(key)
      failures.delete(jobId)
    },
    failuresOf (jobId: string): JobFailures {
      let f = failures.get(jobId)
      if (f == null) failures.set(jobId, (f = { bySignature: new Map(), same: null }))
      return f
    },
    peekFailures: (jobId: string): JobFailures | undefined => failures.get(jobId),
    /**
     * The lease's worker said within two heartbeats that it has not started the unit (fetching, or
     * queued for a slot). The log's `leased` alone may be stale: a unit finished while this owner
     * was away is held by its worker for delivery, not waiting, and is not heard of here.
     */
    isWaiting (rt: UnitRuntime, now: number, heartbeatMs: number): boolean {
      return rt.phase === 'fetching' && now - rt.heardAt <= 2 * heartbeatMs
    },
    isRefused (rt: UnitRuntime, worker: string, now: number): boolean {
      const r = rt.refusals.get(worker)
      return r != null && r.until > now
    }
  }
}

export type OwnerState = ReturnType<typeof createOwnerState>
