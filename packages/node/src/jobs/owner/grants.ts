import type { JobComponents } from '../shared/deps.js'
import type { JobMessage } from '../shared/job-bus.js'
import { isLeaseOf, isPending } from '../shared/unit-lease.js'
import { readierFirst } from './busy-time.js'
import type { LeaseParts, Leases } from './lease.js'
import { CLAIM_WINDOW_MS } from './owner-state.js'
import { takeRoom, waitsForFreeSlot, type Readiness, type WorkerLoad } from './worker-load.js'

/** The parts of the owner that granting asks. */
export interface GrantParts extends LeaseParts {
  leases: Leases
  /** Every worker with what it holds of this owner's units, as the owner sees it now. */
  loads: () => WorkerLoad[]
}

/**
 * The owner's half of offer / claim / grant: it collects claims for a pending unit over
 * CLAIM_WINDOW_MS (a claim from the offer's favourite is granted at once), grants one lease to
 * the best claimant (the offer's favourite, else most free slots or the slot that frees first, then
 * a peer over this node unless the unit is whole, then the earliest), logs it
 * before anyone hears of it, and turns down every claim that cannot win, so no worker keeps room
 * for a unit it will not get.
 */
export function createGrants (c: JobComponents, parts: GrantParts) {
  const { rt, quarantine, leases, log } = parts
  const pendingGrants = new Set<string>()
  /**
   * Grants are chosen one at a time, each after the leases before it are in the log, so each sees
   * them in the workers' loads. Two chosen at once both saw the one free slot, and a whole file
   * was granted to a worker busy with another (bench/batch).
   */
  let lastGrant: Promise<void> = Promise.resolve()

  function onClaim (m: Extract<JobMessage, { type: 'claim' }>, from: string): void {
    const view = c.store.job(m.jobId)
    const unit = view?.units[m.index]
    if (view == null || view.job.owner !== c.mesh.peerId || unit == null) return
    // A job that is assembling, done, cancelled or waiting on a person grants nothing more.
    const state = view.job.state === 'running' && view.job.attention == null ? rt.get(m.jobId, m.index) : null
    const next = isPending(unit) && m.attempt === unit.attempts + 1
    if (state?.granting === true && next) {
      // This attempt's lease is being logged, perhaps to this very claimant (a worker claims again
      // once its claim outlived CLAIM_TTL_MS, as on a disk slow to sync the log): a turn-down now
      // would revoke the attempt about to be granted to it. The grant answers it (grantBest).
      state.claimedWhileGranting.add(from)
      return
    }
    const open =
      state != null &&
      next &&
      !state.granting &&
      !rt.isRefused(state, from, c.clock()) &&
      !quarantine.isQuarantined(from)
    if (!open) {
      // A claim that cannot win is turned down, or it would hold the claimant's room until
      // CLAIM_TTL_MS. Most are for a unit just granted to this node's own worker, a grant that
      // never crosses the network, or one a worker kept from an offer heard while it was full. A
      // repeated claim from the unit's holder is left alone.
      if (unit.worker !== from || unit.attempts !== m.attempt) turnDown(m.jobId, m.index, m.attempt, [from])
      return
    }
    state.claims.push({ worker: from, attempt: m.attempt, at: c.clock() })
    const grantNow = (): void => { grantBest(m.jobId, m.index).catch(err => log.warn({ err }, 'grant failed')) }
    // The offer's favourite wins whenever it claims (see grant): waiting for others only delays
    // its start, at a job's start and end where no prefetch hides it. That holds for this node's
    // own worker too, whose first piece of every cut job would otherwise wait out the window.
    if (from === state.favourite) return grantNow()
    const key = `${m.jobId}:${m.index}`
    if (pendingGrants.has(key)) return
    pendingGrants.add(key)
    setTimeout(() => {
      pendingGrants.delete(key)
      grantNow()
    }, CLAIM_WINDOW_MS).unref()
  }

  async function grantBest (jobId: string, index: number): Promise<void> {
    const view = c.store.job(jobId)
    const unit = view?.units[index]
    const state = rt.get(jobId, index)
    // A claim heard before its sender was quarantined or refused the unit must not win the grant.
    const now = c.clock()
    const claims = state.claims.filter(
      cl =>
        unit != null &&
        cl.attempt === unit.attempts + 1 &&
        !quarantine.isQuarantined(cl.worker) &&
        !rt.isRefused(state, cl.worker, now)
    )
    state.claims = []
    if (
      view == null ||
      unit == null ||
      !isPending(unit) ||
      view.job.state !== 'running' ||
      claims.length === 0 ||
      rt.stopping ||
      state.granting
    ) {
      return
    }
    // Until the lease is in the log the view still says pending: nothing else may grant meanwhile.
    state.granting = true
    const attempt = unit.attempts + 1
    try {
      const turn = lastGrant.then(async () => await grant(jobId, attempt, index, claims))
      lastGrant = turn.catch(() => {})
      await turn
    } finally {
      state.granting = false
      // Claimants heard meanwhile that did not get the lease are told, as the ones that lost are.
      const leased = c.store.job(jobId)?.units[index]
      const lost = [...state.claimedWhileGranting].filter(w => leased == null || !isLeaseOf(leased, w, attempt))
      state.claimedWhileGranting.clear()
      if (lost.length > 0) turnDown(jobId, index, attempt, lost)
    }
  }

  async function grant (
    jobId: string,
    attempt: number,
    index: number,
    claimed: Array<{ worker: string; at: number }>
  ): Promise<void> {
    const loads = new Map(parts.loads().map(w => [w.id, w]))
    const load = (worker: string): Readiness => loads.get(worker) ?? { slotsFree: 0, slotsTotal: 0 }
    let claims = claimed
    const unit = c.store.job(jobId)?.units[index]
    if (unit != null && waitsForFreeSlot(unit)) {
      // A slot free, or room for the prefetch the offer invited (busy-time.ts wholePrefetcher).
      const prefetcher = rt.get(jobId, index).prefetcher
      const able = claims.filter(cl => {
        const w = load(cl.worker)
        return w.slotsFree > 0 || (cl.worker === prefetcher && takeRoom(w) > 0)
      })
      if (able.length === 0) {
        // Every claimant's room filled since the offer (another unit was granted it meanwhile):
        // none may take it to hold behind that one. The next tick offers it again at once.
        turnDown(jobId, index, attempt, claimed.map(cl => cl.worker))
        rt.get(jobId, index).lastOfferAt = 0
        return
      }
      claims = able
    }
    // The offer's favourite wins when it claimed: the offer ranked the workers counting the units
    // offered before this one in the same look, which the loads here do not show until their
    // grants are logged. Then the readiest claimant (busy-time.ts); on a tie a peer wins over this
    // node, whose core also plans, verifies and assembles, but this node wins a whole unit
    // (candidates.ts says why).
    const favourite = rt.get(jobId, index).favourite
    const first = (worker: string): number => (worker === favourite ? 0 : 1)
    const selfFirst = unit?.spec.kind === 'whole'
    const onTie = (worker: string): number => ((worker === c.mesh.peerId) === selfFirst ? 0 : 1)
    const best = claims.sort(
      (a, b) =>
        first(a.worker) - first(b.worker) ||
        readierFirst(load(a.worker), load(b.worker)) ||
        onTie(a.worker) - onTie(b.worker) ||
        a.at - b.at
    )[0]
    if (!(await leases.grant(jobId, index, best.worker, attempt))) return
    // Claimants hear a grant to a peer and drop their claims; a grant to this node is not sent.
    if (best.worker === c.mesh.peerId) {
      turnDown(
        jobId,
        index,
        attempt,
        claimed.map(cl => cl.worker).filter(w => w !== best.worker)
      )
    }
  }

  /** Tells claimants their claim on this attempt will not be granted (a revoke of what they claimed). */
  function turnDown (jobId: string, index: number, attempt: number, workers: string[]): void {
    for (const worker of new Set(workers)) void leases.revoke({ jobId, index, attempt, worker }, 'claim turned down')
  }

  return { onClaim }
}
