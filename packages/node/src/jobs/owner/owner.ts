import { ErrorCodes, TERMINAL_JOB_STATES, toErrorBody, type ErrorBody, type WireErrorCode } from '@ffmesh/protocol'
import type { UnitMeasure } from '../../media/index.js'
import type { Ack, ResultPush } from '../../mesh/types.js'
import type { JobView } from '../../store/reduce.js'
import type { UnitRecord } from '../../store/records.js'
import { assembleJob, resumeAssembly } from './assemble-job.js'
import type { JobComponents } from '../shared/deps.js'
import type { JobMessage } from '../shared/job-bus.js'
import type { SideMessages } from '../shared/message-router.js'
import { createOwnerState, REFUSAL_BACKOFF_MS, REOFFER_MS } from './owner-state.js'
import { pickCandidates } from './candidates.js'
import { createGrants } from './grants.js'
import {
  heldByWorker,
  leasedInputPath,
  offerableWorkers,
  offerOrder,
  offerRoom,
  unitToMove,
  workerLoads,
  type WorkerLoad
} from './worker-load.js'
import { cancelJob, retryJob } from './job-commands.js'
import { needsPlan, planJob } from './planner.js'
import { HELD_RETRY_MS } from '../shared/timing.js'
import { createQuarantine } from './quarantine.js'
import { createRelease } from './release.js'
import { acceptUnitResult } from './results.js'
import { assertSourceUnchanged } from './source-check.js'
import { createTicker } from './ticker.js'
import { createWorkerPresence } from './worker-presence.js'
import { failedForSpace, holdReason, isDiskFullError } from '../shared/disk-hold.js'

/** How often the owner looks at its jobs: offers, lease expiry, assembly. */
export const OWNER_TICK_MS = 200
/**
 * Events after which the owner has work at once (plan, offer, assemble): it looks again right away
 * instead of at the next tick, so a job's steps do not each wait up to OWNER_TICK_MS.
 */
const KICK_EVENTS = new Set([
  'job:submitted',
  'job:units-planned',
  'job:planned',
  'job:assembling',
  'job:retried',
  'job:skipped',
  'job:done',
  'job:failed',
  'unit:verified',
  'unit:released',
  'node:disk-ok'
])
/** A unit under a lease: granted, converting, or its result arriving (expires like the others). */
const isLive = (u: UnitRecord): boolean => u.state === 'leased' || u.state === 'converting' || u.state === 'returned'
/**
 * A step that ran out of space waits this long before it runs again, unless the disk monitor sees
 * space come back first: a job can need more than the reserve (a large output on a small free
 * disk), and the monitor alone would let it fail and retry at every tick.
 */
export const SPACE_RETRY_MS = 30_000
/** A tick that keeps failing for want of disk says so once in this long, not five times a second. */
const QUIET_TICK_ERROR_MS = 60_000
/** Refusals that say the worker cannot do this unit at all, as opposed to a failed try. */
const REFUSALS: readonly WireErrorCode[] = [
  'DISK_FULL',
  'UNSUPPORTED_PROFILE',
  'BUSY',
  'TOO_LARGE',
  'OWNER_UNREACHABLE'
]

export interface OwnerInit {
  /** Free conversion slots of this node's own worker, for choosing among claimants. */
  localSlotsFree: () => number
  /** Whether this node's own worker takes new units (not paused, inside its schedule). */
  localAcceptsWork: () => boolean
}

/**
 * The owner side: the single authority for its jobs. It plans, offers pending units, grants one
 * lease per unit to one claimant, expires leases, verifies results and assembles. Everything that
 * must survive a crash goes through the job log; offers and claims are memory (owner-state.ts).
 */
export function createOwner (c: JobComponents, init: OwnerInit) {
  const log = c.logger.child({ component: 'owner' })
  const rt = createOwnerState()
  const quarantine = createQuarantine({ durationMs: c.config.jobs.quarantineSeconds * 1000, clock: c.clock })
  const busy = new Set<string>()
  const abort = new AbortController()
  const release = createRelease(c, rt, { quarantine, log })
  const grants = createGrants(c, rt, { quarantine, loads, log, release })
  const presence = createWorkerPresence(c.mesh)

  /** Jobs held for want of disk at the last tick: their leases are re-armed when they go on. */
  const held = new Set<string>()
  /** Jobs whose last step ran out of space, and until when they wait (cleared when space returns). */
  const spaceWait = new Map<string, number>()
  let quietUntil = 0

  // A job waiting to be handed to another node is not planned here (handoff.ts moves it on); a job
  // whose records the log lost waits for a person (ffmesh retry or rm).
  const mine = (v: JobView): boolean =>
    v.job.owner === c.mesh.peerId && !(v.job.handoff === true && v.job.state === 'queued') && v.job.attention == null
  // Jobs under way: the tick's cost follows the work in flight, not the queued or finished thousands
  // (a queued job has no unit yet, so no lease, offer or blob to look after).
  const owned = (): JobView[] => [...c.store.inFlight()].filter(mine)
  const planning = new Set<string>()

  function runExclusive (jobId: string, what: string, fn: () => Promise<void>): void {
    if (busy.has(jobId) || rt.stopping) return
    busy.add(jobId)
    fn().catch(async (err) => {
      if (rt.stopping) return
      const job = c.store.job(jobId)?.job
      // A full disk is a state, not the job's fault: the step runs again once there is space.
      if (job != null && await failedForSpace(c, job, err)) {
        spaceWait.set(jobId, c.clock() + SPACE_RETRY_MS)
        log.warn(
          { jobId, err: isDiskFullError(err) ? String((err as Error).message) : err },
          `${what} held: no disk space; it runs again once there is`
        )
        return
      }
      log.warn({ jobId, err }, `${what} failed`)
      await fail(jobId, toErrorBody(err))
    }).catch(err => log.error({ jobId, err }, `recording that ${what} failed failed`))
      .finally(() => busy.delete(jobId))
  }

  /**
   * Leases of remote workers get a grace to report in (after a restart, or after the job was held
   * for want of disk): a worker that finished meanwhile sends no heartbeat but offers its held
   * result again within HELD_RETRY_MS; expiring its lease sooner would convert that unit again.
   */
  function rearmLeases (view: JobView, now: number): void {
    const graceMs = HELD_RETRY_MS + 2 * Math.round(c.config.jobs.leaseSeconds * 1000)
    for (const u of view.units) if (isLive(u)) rt.get(u.jobId, u.index).leaseUntil = now + graceMs
  }

  async function fail (jobId: string, error: ErrorBody): Promise<void> {
    const view = c.store.job(jobId)
    if (view == null || TERMINAL_JOB_STATES.includes(view.job.state)) return
    await c.store.append(jobId, { type: 'job:failed', error })
    c.events.emit('job:failed', { jobId, data: { ...error } })
    await revokeLeases(view)
    rt.forgetJob(jobId)
  }

  async function revokeLeases (view: JobView): Promise<void> {
    for (const u of view.units) {
      if ((u.state === 'leased' || u.state === 'converting') && u.worker != null) {
        await c.bus
          .publish({ type: 'revoke', jobId: u.jobId, index: u.index, attempt: u.attempts, worker: u.worker })
          .catch(() => {})
      }
    }
  }

  /** Held for want of disk: nothing is planned, offered, expired or assembled meanwhile. */
  const isHeld = (job: JobView['job'], now: number): boolean =>
    holdReason(c, job) != null || (spaceWait.get(job.id) ?? 0) > now

  async function tickJob (view: JobView, now: number): Promise<void> {
    const { job, units } = view
    if (isHeld(job, now)) {
      held.add(job.id)
      return
    }
    if (held.delete(job.id)) rearmLeases(view, now)
    // A running job may still be planning (its audio unit logged first): it runs what it has.
    if (job.state === 'running' && needsPlan(job)) plan(job.id)
    if (job.state === 'queued') return
    if (job.state === 'assembling') {
      return runExclusive(job.id, 'assembly', () => assembleJob(c, view, { signal: abort.signal }))
    }
    if (job.state !== 'running') return
    for (const u of units.filter(isLive)) {
      const until = rt.get(job.id, u.index).leaseUntil ?? u.leaseUntil ?? 0
      if (u.worker != null && presence.isGone(u.worker)) {
        // Not a failure: a crashed or unplugged machine says nothing about the unit or the worker's
        // results, so it neither spends an attempt nor counts toward quarantine.
        log.info({ jobId: job.id, index: u.index, worker: u.worker }, 'worker left the mesh: unit offered again')
        await release(
          u,
          {
            code: ErrorCodes.PEER_UNREACHABLE,
            message: `worker ${u.worker} left the mesh (no connection, no capacity advert)`
          },
          false
        )
      } else if (until < now) {
        log.info({ jobId: job.id, index: u.index, worker: u.worker }, 'lease expired')
        await c.bus
          .publish({
            type: 'revoke',
            jobId: job.id,
            index: u.index,
            attempt: u.attempts,
            worker: u.worker ?? c.mesh.peerId
          })
          .catch(() => {})
        await release(
          u,
          { code: ErrorCodes.CONVERT_TIMEOUT, message: `lease expired: worker ${u.worker ?? '?'} stopped reporting` },
          true
        )
      }
    }
    const exhausted = units.find(u => u.state === 'pending' && u.failures >= c.config.jobs.maxAttempts)
    if (exhausted != null) {
      const last = exhausted.lastError
      return fail(job.id, {
        code: ErrorCodes.ATTEMPTS_EXHAUSTED,
        message:
          `unit ${exhausted.index} failed ${exhausted.failures} times; last reason: ${last?.code ?? ''} ${last?.message ?? ''}`.trim()
      })
    }
    if (job.planning !== true && units.length > 0 && units.every(u => u.state === 'verified')) {
      await c.store.append(job.id, { type: 'job:assembling' })
      c.events.emit('job:assembling', { jobId: job.id })
      return
    }
    // One look at the workers serves both: a tail move only happens when nothing is left to offer.
    const workers = loads()
    await offerPending(view, now, workers)
    await moveTailUnit(view, now, workers)
  }

  function plan (jobId: string): void {
    if (busy.has(jobId)) return
    planning.add(jobId)
    runExclusive(jobId, 'planning', async () => {
      try { await planJob(c, jobId, { signal: abort.signal }) } finally { planning.delete(jobId) }
    })
  }

  /**
   * Queued jobs start in submission order, a few at a time: each plan probes and cuts its source
   * (an ffmpeg reading it), and a planned job's pieces wait on disk until workers take them. So at
   * most jobs.maxPlanning plans run at once, and no new one starts while the planned jobs already
   * have more than a round of the mesh's slots to do.
   */
  function startPlans (inFlight: JobView[], now: number): void {
    const slots = c.config.worker.slots + c.mesh.peers().reduce((n, p) => n + p.slotsTotal, 0)
    let running = inFlight.filter(v => !planning.has(v.job.id)).length
    for (const view of c.store.queued()) {
      if (planning.size >= c.config.jobs.maxPlanning || running >= slots + c.config.jobs.maxPlanning) return
      if (!mine(view) || busy.has(view.job.id) || isHeld(view.job, now)) continue
      plan(view.job.id)
      running++
    }
  }

  const ticker = createTicker(async () => {
    const now = c.clock()
    const views = owned()
    startPlans(views, now)
    for (const view of views) await tickJob(view, now)
  }, OWNER_TICK_MS, (err) => {
    if (!isDiskFullError(err)) return log.error({ err }, 'owner tick failed')
    if (c.clock() < quietUntil) return
    quietUntil = c.clock() + QUIET_TICK_ERROR_MS
    log.warn(
      { err: String((err as Error).message) },
      'owner tick failed: no disk space (said once a minute while it lasts)'
    )
  })

  /** At the end of a job, a unit waiting behind another on a busy worker goes to an idle one, once. */
  async function moveTailUnit (view: JobView, now: number, workers: WorkerLoad[]): Promise<void> {
    const heartbeatMs = Math.round(c.config.jobs.heartbeatSeconds * 1000)
    const unit = unitToMove(view.units, workers, (worker, u) => {
      const state = rt.get(u.jobId, u.index)
      return (
        rt.isWaiting(state, now, heartbeatMs) &&
        !state.moved &&
        worker !== u.worker &&
        !rt.isRefused(state, worker, now) &&
        !quarantine.isQuarantined(worker)
      )
    })
    if (unit?.worker == null) return
    rt.get(unit.jobId, unit.index).moved = true
    log.info({ jobId: unit.jobId, index: unit.index, from: unit.worker }, 'moving a waiting unit to an idle worker')
    await c.bus
      .publish({ type: 'revoke', jobId: unit.jobId, index: unit.index, attempt: unit.attempts, worker: unit.worker })
      .catch(() => {})
    await release(
      unit,
      { code: ErrorCodes.UNIT_REASSIGNED, message: `waiting on ${unit.worker} while another worker was idle` },
      false
    )
  }

  /**
   * Every worker that takes units (this node's own too; not a peer whose disk is full) with what it holds of this
   * owner's units.
   */
  function loads (): WorkerLoad[] {
    const local = {
      id: c.mesh.peerId,
      slotsFree: init.localSlotsFree(),
      slotsTotal: c.config.worker.slots,
      paused: !init.localAcceptsWork()
    }
    return workerLoads(offerableWorkers(c.mesh.peers(), local), heldByWorker(owned()))
  }

  /** Offers only as many units as the mesh has room for (free slots plus one prefetch per worker). */
  async function offerPending (view: JobView, now: number, workers: WorkerLoad[]): Promise<void> {
    const pending = offerOrder(view.units)
      .slice(0, offerRoom(workers))
      .filter(u => now - rt.get(u.jobId, u.index).lastOfferAt >= REOFFER_MS)
    // A unit that reads the source itself (a whole unit) would fail on any worker once the source
    // is gone or changed: say so once, with the code that names it, instead of spending attempts.
    if (pending.some(u => u.inputPaths.includes(view.job.source))) {
      const problem = await assertSourceUnchanged(view.job, 'before it was converted').then(
        () => null,
        (err: unknown) => err
      )
      if (problem != null) return fail(view.job.id, toErrorBody(problem))
    }
    for (const u of pending) {
      const state = rt.get(u.jobId, u.index)
      state.lastOfferAt = now
      state.offeredSince ??= now
      const bytes = u.spec.inputs.reduce((n, i) => n + i.size, 0)
      const candidates = pickCandidates(
        workers,
        peer => rt.isRefused(state, peer, now) || quarantine.isQuarantined(peer),
        c.mesh.peerId
      )
      // The first invited is the likely winner: count its slot as taken for the next offers.
      state.favourite = candidates[0] ?? null
      const likely = workers.find(w => w.id === candidates[0])
      if (likely != null && likely.slotsFree > 0) likely.slotsFree--
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

  async function onHeartbeat (m: Extract<JobMessage, { type: 'heartbeat' }>, from: string): Promise<void> {
    const unit = c.store.job(m.jobId)?.units[m.index]
    if (
      unit == null ||
      unit.worker !== from ||
      unit.attempts !== m.attempt ||
      (unit.state !== 'leased' && unit.state !== 'converting')
    ) {
      return
    }
    const state = rt.get(m.jobId, m.index)
    state.leaseUntil = c.clock() + Math.round(c.config.jobs.leaseSeconds * 1000)
    state.progress = m.progress
    state.phase = m.phase
    state.heardAt = c.clock()
    if (m.phase === 'converting' && unit.state === 'leased') {
      await c.store.append(m.jobId, { type: 'unit:converting', index: m.index, attempt: m.attempt })
      c.events.emit('unit:converting', { jobId: m.jobId, index: m.index, peerId: from })
    }
    c.events.emit('unit:progress', {
      jobId: m.jobId,
      index: m.index,
      peerId: from,
      data: { phase: m.phase, progress: m.progress }
    })
  }

  async function onReject (m: Extract<JobMessage, { type: 'reject' }>, from: string): Promise<void> {
    const unit = c.store.job(m.jobId)?.units[m.index]
    if (unit == null) return
    const code = m.code as WireErrorCode
    // This node's own full disk holds the whole job already (holdReason); no refusal to wait out.
    if (REFUSALS.includes(code) && !(code === 'DISK_FULL' && from === c.mesh.peerId)) {
      const refusal = { code, message: m.message, until: c.clock() + REFUSAL_BACKOFF_MS }
      // A missing encoder, a full disk or no route to this node holds for every unit of the job.
      const scope =
        code === 'UNSUPPORTED_PROFILE' || code === 'DISK_FULL' || code === 'OWNER_UNREACHABLE'
          ? (c.store.job(m.jobId)?.units ?? [unit])
          : [unit]
      for (const u of scope) rt.get(u.jobId, u.index).refusals.set(from, refusal)
    }
    c.events.emit('peer:rejected', { jobId: m.jobId, index: m.index, peerId: from, data: { code, message: m.message } })
    if (
      unit.worker === from &&
      unit.attempts === m.attempt &&
      (unit.state === 'leased' || unit.state === 'converting')
    ) {
      await release(
        unit,
        {
          code: code === 'TIMEOUT' ? ErrorCodes.CONVERT_TIMEOUT : ErrorCodes.CONVERT_FAILED,
          message: `${code} from ${from}: ${m.message}`
        },
        !REFUSALS.includes(code)
      )
    }
  }

  const failed = (err: unknown): void => log.warn({ err }, 'handling a message failed')
  /** The job messages the owner side handles (node.ts routes them here). */
  const messages = {
    claim: (m, from) => grants.onClaim(m, from),
    heartbeat: (m, from) => { onHeartbeat(m, from).catch(failed) },
    reject: (m, from) => { onReject(m, from).catch(failed) }
  } satisfies SideMessages

  return {
    state: rt,
    messages,
    quarantined: () => quarantine.list(),
    async start (): Promise<void> {
      // Work this node was doing for itself died with the previous process: give it back now.
      // Remote leases get a grace to report in (rearmLeases). A result that was arriving when this
      // node went down (`returned`) got no ack, so its worker holds it too: the same grace.
      const now = c.clock()
      for (const view of owned()) {
        rearmLeases(view, now)
        for (const u of view.units) {
          if (isLive(u) && u.worker === c.mesh.peerId) {
            await release(u, { code: ErrorCodes.CONVERT_FAILED, message: 'interrupted by a node restart' }, false)
          }
        }
        if (view.job.state === 'assembling') await resumeAssembly(c, view)
      }
      c.events.on(e => {
        // Offers, claims and progress of a finished job are of no further use.
        if ((e.type === 'job:done' || e.type === 'job:skipped') && e.jobId != null) rt.forgetJob(e.jobId)
        if (e.type === 'node:disk-ok') spaceWait.clear()
        if (KICK_EVENTS.has(e.type)) ticker.kick()
      })
      presence.start()
      ticker.start()
    },
    async stop (): Promise<void> {
      rt.stopping = true
      ticker.stop()
      presence.stop()
      abort.abort()
      while (busy.size > 0) await new Promise(resolve => setTimeout(resolve, 20))
    },
    acceptResult: (peer: string, push: ResultPush, tmpFile: string, local?: UnitMeasure): Promise<Ack> =>
      acceptUnitResult(c, rt, release, peer, push, tmpFile, local),
    /** A peer may fetch a blob only while it holds a lease on a unit that needs it. */
    authorizeBlob: async (peer: string, hash: string): Promise<string | null> => leasedInputPath(owned(), peer, hash),
    /** Forgets a removed job's offers, claims and progress. */
    forget: (id: string): void => {
      rt.forgetJob(id)
      held.delete(id)
      spaceWait.delete(id)
    },
    /** Why a job waits after a step ran out of space (null when it does not). */
    spaceHold (id: string): string | null {
      const until = spaceWait.get(id) ?? 0
      return until > c.clock()
        ? `its last step ran out of disk space; it runs again when space is freed, or in ${Math.ceil((until - c.clock()) / 1000)} s`
        : null
    },
    cancel: async (id: string): Promise<void> =>
      await cancelJob(c, id, async view => {
        await revokeLeases(view)
        rt.forgetJob(id)
      }),
    retry: async (id: string): Promise<void> => await retryJob(c, id)
  }
}

export type Owner = ReturnType<typeof createOwner>
