import { toErrorBody } from '@ffmesh/protocol'
import type { JobView } from '../../store/reduce.js'
import type { UnitRecord } from '../../store/records.js'
import type { JobComponents } from '../shared/deps.js'
import {
  countOffered,
  holdForSoonerWorker,
  keepSlotFor,
  wholePrefetcher,
  wholePrefetchHorizonSec,
  workLeft
} from './busy-time.js'
import { pickCandidates } from './candidates.js'
import { DEFAULT_UNIT_COST, measuredUnitCost, type ProgressOf } from './cut-policy.js'
import type { LeaseParts, Leases } from './lease.js'
import { REOFFER_MS } from './owner-state.js'
import { keptFrom } from './retry-elsewhere.js'
import { assertSourceUnchanged, readsSource } from './source-check.js'
import type { StepRunner } from './step-runner.js'
import {
  convertingWorkers,
  hasFreeSlot,
  heldByWorker,
  offerableWorkers,
  offerOrder,
  offerRoom,
  unitToMove,
  waitsForFreeSlot,
  workerLoads,
  type WorkerLoad
} from './worker-load.js'

/** What the owner knows of this node's own worker. */
export interface LocalWorker {
  /** Free conversion slots of this node's own worker, for choosing among claimants. */
  localSlotsFree: () => number
  /** Whether this node's own worker takes new units (not paused, inside its schedule). */
  localAcceptsWork: () => boolean
}

/** The parts of the owner that offering asks. */
export interface OfferParts extends LeaseParts {
  leases: Leases
  runner: StepRunner
  /** This owner's jobs under way. */
  owned: () => JobView[]
  /** A unit's progress now, estimated from its worker's reports (progress-estimate.ts). */
  progressOf: ProgressOf
  local: LocalWorker
}

/**
 * The owner's half of offering: which workers have room, which pending units are offered to whom,
 * and, at a job's end, moving a unit that waits on a busy worker to an idle one.
 */
export function createOffers (c: JobComponents, parts: OfferParts) {
  const { rt, quarantine, leases, log } = parts

  /**
   * Every worker that takes units (this node's own too; not a peer whose disk is full) with what it
   * holds of this owner's units.
   */
  function loads (): WorkerLoad[] {
    const local = {
      id: c.mesh.peerId,
      slotsFree: parts.local.localSlotsFree(),
      slotsTotal: c.config.worker.slots,
      paused: !parts.local.localAcceptsWork()
    }
    const owned = parts.owned()
    return workerLoads(offerableWorkers(c.mesh.peers(), local), heldByWorker(owned), workLeft(owned, parts.progressOf))
  }

  /** Offers only as many units as the mesh has room for (free slots plus one prefetch per worker). */
  async function offerPending (view: JobView, now: number, workers: WorkerLoad[]): Promise<void> {
    const pending = offerOrder(view.units)
      .slice(0, offerRoom(workers))
      .filter(u => now - rt.get(u.jobId, u.index).lastOfferAt >= REOFFER_MS)
    // A unit that reads the source itself (a whole unit) would fail on any worker once the source
    // is gone or changed: say so, with the code that names it, instead of spending attempts. The
    // source is looked at every REOFFER_MS while such a unit waits for a slot, and before it is
    // offered; a stat of every waiting job at every tick was a large part of a batch owner's work.
    const reader = pending.find(u => readsSource(view.job, u))
    if (reader != null && now - rt.get(reader.jobId, reader.index).sourceCheckedAt >= REOFFER_MS) {
      if (!(await sourceUnchanged(view, reader, now))) return
    }
    for (const u of pending) {
      const state = rt.get(u.jobId, u.index)
      const barred = (peer: string): boolean => rt.isRefused(state, peer, now) || quarantine.isQuarantined(peer)
      const failedHere = keptFrom(state.lastFailure, workers, barred, now)
      const excluded = (peer: string): boolean => barred(peer) || peer === failedHere
      // A whole unit goes to a free slot, or is fetched by the worker whose slot frees within a few
      // seconds; otherwise it keeps the slot that frees first from later units. A piece is
      // prefetched only by the worker whose slot frees first (busy-time.ts).
      let prefetcher: WorkerLoad | null = null
      if (waitsForFreeSlot(u)) {
        if (!hasFreeSlot(workers, excluded)) {
          prefetcher = wholePrefetcher(workers, excluded, wholeHorizonSec(workers))
          if (prefetcher == null) {
            keepSlotFor(workers, excluded, u)
            continue
          }
        }
      } else if (holdForSoonerWorker(workers, excluded)) continue
      if (u === reader && state.sourceCheckedAt !== now) {
        if (!(await sourceUnchanged(view, u, now))) return
      }
      state.lastOfferAt = now
      state.offeredSince ??= now
      state.prefetcher = prefetcher?.id ?? null
      const bytes = u.spec.inputs.reduce((n, i) => n + i.size, 0)
      // Only the prefetcher: a spare busy for longer would hold the file behind its own unit.
      const candidates =
        prefetcher != null
          ? [prefetcher.id]
          : pickCandidates(workers, excluded, { self: c.mesh.peerId, whole: u.spec.kind === 'whole' })
      // The first invited is the likely winner: count the unit as taken by it for the next offers.
      state.favourite = candidates[0] ?? null
      const likely = workers.find(w => w.id === candidates[0])
      if (likely != null) countOffered(likely, u)
      log.debug({ jobId: u.jobId, index: u.index, attempt: u.attempts + 1, candidates }, 'offering')
      await c.bus.publish({
        type: 'offer',
        attempt: u.attempts + 1,
        unit: u.spec,
        expectedOutputBytes: Math.ceil(bytes * 1.5) + 16 * 1024 * 1024,
        candidates
      })
    }
  }

  /** Whether the source `u` reads is as submitted; if not, the job fails with SOURCE_CHANGED. */
  async function sourceUnchanged (view: JobView, u: UnitRecord, now: number): Promise<boolean> {
    rt.get(u.jobId, u.index).sourceCheckedAt = now
    const problem = await assertSourceUnchanged(view.job, 'before it was converted').then(
      () => null,
      (err: unknown) => err
    )
    if (problem == null) return true
    await parts.runner.fail(view.job.id, toErrorBody(problem))
    return false
  }

  /**
   * wholePrefetcher's horizon, at the speed this owner's units convert at (or the default's). Once
   * per look at the workers, which every job of a tick shares: the measure reads all jobs under way.
   */
  const horizons = new WeakMap<WorkerLoad[], number>()
  function wholeHorizonSec (look: WorkerLoad[]): number {
    let sec = horizons.get(look)
    if (sec == null) {
      const cost = measuredUnitCost(c) ?? DEFAULT_UNIT_COST
      sec = wholePrefetchHorizonSec(c.config.jobs.heartbeatSeconds, cost.secPerMediaSec)
      horizons.set(look, sec)
    }
    return sec
  }

  /**
   * At the end of a job, a unit waiting behind another on a busy worker goes to an idle one, once.
   * The idle worker counts as taken for the rest of the look, so no later job offers it a unit too.
   */
  async function moveTailUnit (view: JobView, now: number, workers: WorkerLoad[]): Promise<void> {
    const heartbeatMs = Math.round(c.config.jobs.heartbeatSeconds * 1000)
    const move = unitToMove(view.units, workers, convertingWorkers(parts.owned()), (worker, u) => {
      const state = rt.get(u.jobId, u.index)
      return (
        rt.isWaiting(state, now, heartbeatMs) &&
        !state.moved &&
        worker !== u.worker &&
        !rt.isRefused(state, worker, now) &&
        !quarantine.isQuarantined(worker)
      )
    })
    const unit = move?.unit
    if (move == null || unit?.worker == null) return
    countOffered(move.to, unit)
    rt.get(unit.jobId, unit.index).moved = true
    log.info({ jobId: unit.jobId, index: unit.index, from: unit.worker }, 'moving a waiting unit to an idle worker')
    await leases.reassign(unit, `waiting on ${unit.worker} while another worker was idle`)
  }

  return {
    loads,
    /**
     * Offers the job's pending units; then, with the same look at the workers, moves a waiting one.
     * `workers` is one look (loads()) shared by every job of a tick: what is offered or moved for
     * one job counts against its likely worker when the next job offers. A look per job let three
     * jobs each offer their whole file to the one free slot, and two were granted it (bench/batch).
     */
    async offer (view: JobView, now: number, workers: WorkerLoad[]): Promise<void> {
      // A tail move only happens when nothing is left to offer.
      await offerPending(view, now, workers)
      await moveTailUnit(view, now, workers)
    }
  }
}

export type Offers = ReturnType<typeof createOffers>
