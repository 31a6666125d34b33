import type { UnitMeasure } from '../../media/index.js'
import type { Ack, ResultPush } from '../../mesh/types.js'
import type { JobView } from '../../store/reduce.js'
import { createSubscriptions } from '../../lifecycle.js'
import { ErrorCodes } from '@ffmesh/protocol'
import { resumeAssembly } from './assemble-job.js'
import type { JobComponents } from '../shared/deps.js'
import type { SideMessages } from '../shared/message-router.js'
import { earlierJobFirst } from '../shared/unit-order.js'
import { isLive } from '../shared/unit-lease.js'
import { createOwnerState } from './owner-state.js'
import { createGrants } from './grants.js'
import { createJobSteps, KICK_EVENTS } from './job-steps.js'
import { leasedInputPath, type WorkerLoad } from './worker-load.js'
import { cancelJob, retryJob } from './job-commands.js'
import { createLeases } from './lease.js'
import { createOffers, type LocalWorker } from './offers.js'
import { createPlanStarts } from './plan-starts.js'
import { estimatedProgress } from './progress-estimate.js'
import { createQuarantine } from './quarantine.js'
import { acceptUnitResult, screenUnitResult } from './results.js'
import { createStepRunner } from './step-runner.js'
import { createTicker } from './ticker.js'
import { createWorkerPresence } from './worker-presence.js'
import { createWorkerReports } from './worker-reports.js'
import { isDiskFullError } from '../../media/disk-full.js'

/** How often the owner looks at its jobs: offers, lease expiry, assembly. */
export const OWNER_TICK_MS = 200
/** A tick that keeps failing for want of disk says so once in this long, not five times a second. */
const QUIET_TICK_ERROR_MS = 60_000

export type OwnerInit = LocalWorker

/**
 * The owner side: the single authority for its jobs. It plans, offers pending units, grants one
 * lease per unit to one claimant, expires leases, verifies results and assembles. Everything that
 * must survive a crash goes through the job log; offers and claims are memory (owner-state.ts).
 * It is built from parts that each keep one concern: the lease's transitions (lease.ts), grants,
 * offers, results, worker reports, and the walk over a job's steps (job-steps.ts).
 */
export function createOwner (c: JobComponents, init: OwnerInit) {
  const log = c.logger.child({ component: 'owner' })
  const rt = createOwnerState()
  const quarantine = createQuarantine({ durationMs: c.config.jobs.quarantineSeconds * 1000, clock: c.clock })
  const abort = new AbortController()
  const presence = createWorkerPresence(c.mesh)
  const subscriptions = createSubscriptions()

  // A job waiting to be handed to another node is not planned here (handoff.ts moves it on); a job
  // whose records the log lost waits for a person (ffmesh retry or rm).
  const mine = (v: JobView): boolean =>
    v.job.owner === c.mesh.peerId && !(v.job.handoff === true && v.job.state === 'queued') && v.job.attention == null
  // Jobs under way: the tick's cost follows the work in flight, not the queued or finished thousands
  // (a queued job has no unit yet, so no lease, offer or blob to look after). In submission order
  // (ids are ULIDs), the order offers go out in: the store lists them in the order they got under
  // way, and a short file's plan ends first, so a 60 s clip planned first took the free slot
  // ahead of a 120 s clip submitted before it (bench/batch). They are few: a sort costs nothing.
  const owned = (): JobView[] =>
    [...c.store.inFlight()].filter(mine).sort((a, b) => earlierJobFirst(a.job.id, b.job.id))

  const leases = createLeases(c, { rt, quarantine, log })
  const runner = createStepRunner(c, { rt, leases, log })
  // The cut policy and the offers weigh units under way by the progress their workers report,
  // moved on to now at each unit's speed, for at most two heartbeats (progress-estimate.ts).
  // A video unit not yet heard at a speed of its own goes at its worker's last one.
  const progressOf = (jobId: string, index: number): number => {
    const heard = rt.peek(jobId, index)
    if (heard == null) return 0
    const unit = c.store.job(jobId)?.units[index]
    const speed = unit?.worker != null && unit.spec.kind !== 'audio' ? rt.speeds.get(unit.worker) : undefined
    const startSpeed = speed != null && unit != null && unit.spec.durationSec > 0 ? speed / unit.spec.durationSec : 0
    return estimatedProgress(heard, c.clock(), 2 * c.config.jobs.heartbeatSeconds * 1000, startSpeed)
  }
  const offers = createOffers(c, { rt, quarantine, leases, runner, log, owned, progressOf, local: init })
  const grants = createGrants(c, { rt, quarantine, leases, loads: offers.loads, log })
  const reports = createWorkerReports(c, { rt, leases })
  const plans = createPlanStarts(c, { runner, signal: abort.signal, progressOf })
  const steps = createJobSteps(c, {
    rt, leases, runner, plans, offers, isGone: presence.isGone, log, signal: abort.signal
  })

  let quietUntil = 0
  const ticker = createTicker(async () => {
    const views = owned()
    // One look at the workers for every job's offers at this tick (offers.ts).
    let workers: WorkerLoad[] | undefined
    const tick = { now: c.clock(), planRoom: plans.room(views), workers: () => (workers ??= offers.loads()) }
    // Queued jobs first, in submission order, while there is room for their plans.
    let queued = false
    for (const view of c.store.queued()) {
      if (!mine(view)) continue
      queued = true
      if (!tick.planRoom.open()) break
      await steps.walk(view, tick)
    }
    for (const view of views) await steps.walk(view, tick)
    // With no job of its own to look after, the owner waits for one to be submitted (a kick).
    return queued || views.length > 0
  }, OWNER_TICK_MS, (err) => {
    if (!isDiskFullError(err)) return log.error({ err }, 'owner tick failed')
    if (c.clock() < quietUntil) return
    quietUntil = c.clock() + QUIET_TICK_ERROR_MS
    log.warn(
      { err: String((err as Error).message) },
      'owner tick failed: no disk space (said once a minute while it lasts)'
    )
  })

  const failed = (err: unknown): void => log.warn({ err }, 'handling a message failed')
  /** The job messages the owner side handles (node.ts routes them here). */
  const messages = {
    claim: (m, from) => grants.onClaim(m, from),
    heartbeat: (m, from) => { reports.onHeartbeat(m, from).catch(failed) },
    reject: (m, from) => { reports.onReject(m, from).catch(failed) }
  } satisfies SideMessages

  return {
    state: rt,
    messages,
    quarantined: () => quarantine.list(),
    async start (): Promise<void> {
      // Work this node was doing for itself died with the previous process: give it back now.
      // Remote leases get a grace to report in (leases.rearm). A result that was arriving when this
      // node went down (`returned`) got no ack, so its worker holds it too: the same grace.
      const now = c.clock()
      for (const view of owned()) {
        leases.rearm(view, now)
        for (const u of view.units) {
          if (isLive(u) && u.worker === c.mesh.peerId) {
            const reason = { code: ErrorCodes.CONVERT_FAILED, message: 'interrupted by a node restart' }
            await leases.release(u, reason, false)
          }
        }
        // As an assembly step: a swap that cannot finish now (the original replaced meanwhile, a
        // full disk) fails or holds its job like any assembly, and never keeps the node from starting.
        if (view.job.state === 'assembling') runner.runExclusive(view.job.id, 'assembly', () => resumeAssembly(c, view))
      }
      subscriptions.add(c.events.on(e => {
        // Offers, claims and progress of a finished job are of no further use.
        if ((e.type === 'job:done' || e.type === 'job:skipped') && e.jobId != null) rt.forgetJob(e.jobId)
        if (e.type === 'node:disk-ok') runner.spaceReturned()
        if (KICK_EVENTS.has(e.type)) ticker.kick()
      }))
      presence.start()
      subscriptions.add(() => presence.stop())
      ticker.start()
      subscriptions.add(() => ticker.stop())
    },
    async stop (): Promise<void> {
      rt.stopping = true
      subscriptions.clear()
      abort.abort()
      await runner.idle()
    },
    acceptResult: (peer: string, push: ResultPush, tmpFile: string, local?: UnitMeasure): Promise<Ack> =>
      acceptUnitResult(c, { rt, leases }, { peer, push, tmpFile, local }),
    /** A pushed result answered from its header where it can be (results.ts), before it is stored. */
    screenResult: (peer: string, push: ResultPush): Promise<Ack | null> =>
      screenUnitResult(c, { rt, leases }, peer, push),
    /** A peer may fetch a blob only while it holds a lease on a unit that needs it. */
    authorizeBlob: async (peer: string, hash: string): Promise<string | null> => leasedInputPath(owned(), peer, hash),
    /** Forgets a removed job's offers, claims and progress. */
    forget: (id: string): void => {
      rt.forgetJob(id)
      steps.forget(id)
      runner.forget(id)
    },
    /** Why a job waits after a step ran out of space (null when it does not). */
    spaceHold: (id: string): string | null => runner.spaceHold(id),
    cancel: async (id: string): Promise<void> =>
      await cancelJob(c, id, async view => {
        await leases.revokeJob(view, 'job cancelled')
        rt.forgetJob(id)
      }),
    retry: async (id: string): Promise<void> => await retryJob(c, id)
  }
}

export type Owner = ReturnType<typeof createOwner>
