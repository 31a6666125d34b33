import { ErrorCodes, type EventName, type JobState } from '@ffmesh/protocol'
import type { Logger } from '../../logger.js'
import type { JobView } from '../../store/reduce.js'
import type { JobComponents } from '../shared/deps.js'
import { recordEvent } from '../shared/record-event.js'
import { isLive, isPending, isVerified } from '../shared/unit-lease.js'
import { assembleJob } from './assemble-job.js'
import type { Leases } from './lease.js'
import type { Offers } from './offers.js'
import type { OwnerState } from './owner-state.js'
import type { PlanRoom, PlanStarts } from './plan-starts.js'
import { needsPlan } from './planner.js'
import type { StepRunner } from './step-runner.js'
import type { WorkerLoad } from './worker-load.js'

/** One step of a job as the owner takes it, in the order the owner looks at them. */
export interface JobStepSpec {
  readonly step: string
  /** The job states the step applies to. */
  readonly states: readonly JobState[]
  /** Events after which the step has work at once: the owner looks again right away, not at the next tick. */
  readonly wakes: readonly EventName[]
}

/**
 * A job's steps, in order. At each tick (and at once after an event that wakes one) the owner
 * walks them for each of its jobs; a step can end that job's walk.
 */
export const JOB_STEPS = [
  // A job held for want of disk does nothing; its remote leases get a grace when it goes on.
  { step: 'hold', states: ['queued', 'running', 'assembling'], wakes: ['node:disk-ok'] },
  // Queued jobs start their plans in submission order while there is room (plan-starts.ts): a new
  // job, a retried one, or a job that ended and so left room.
  {
    step: 'start plan',
    states: ['queued'],
    wakes: ['job:submitted', 'job:retried', 'job:done', 'job:failed', 'job:skipped']
  },
  // A running job may still be planning (its audio unit logged first): it runs what it has.
  { step: 'plan on', states: ['running'], wakes: [] },
  { step: 'assemble', states: ['assembling'], wakes: ['job:assembling'] },
  // Leases whose worker left the mesh or stopped reporting end.
  { step: 'expire', states: ['running'], wakes: [] },
  // A unit that failed jobs.maxAttempts times fails the job.
  { step: 'give up', states: ['running'], wakes: ['unit:released'] },
  // Every unit verified, and the plan complete: the job goes to assembly.
  { step: 'finish', states: ['running'], wakes: ['unit:verified', 'job:planned'] },
  // Pending units are offered; at the end of a job a unit waiting on a busy worker moves to an idle one.
  { step: 'offer', states: ['running'], wakes: ['job:units-planned', 'job:planned', 'job:retried', 'unit:released'] }
] as const satisfies readonly JobStepSpec[]

export type JobStepName = typeof JOB_STEPS[number]['step']

/** Events after which the owner has work at once: every step's wake-ups. */
export const KICK_EVENTS: ReadonlySet<EventName> = new Set(JOB_STEPS.flatMap(s => s.wakes))

/**
 * What one tick knows: its time, the room for new plans that its queued jobs share, and one look
 * at the workers' loads that its jobs' offers share (taken at the first offer, then updated by it).
 */
export interface TickContext { now: number, planRoom: PlanRoom, workers: () => WorkerLoad[] }

/** Runs a step for one job; true ends that job's walk at this tick. */
type StepBody = (view: JobView, tick: TickContext) => Promise<boolean | void> | boolean | void

export interface JobStepParts {
  rt: OwnerState
  leases: Leases
  runner: StepRunner
  plans: PlanStarts
  offers: Offers
  /** Whether a worker left the mesh (no connection, no capacity advert). */
  isGone: (worker: string) => boolean
  log: Logger
  signal: AbortSignal
}

/** The owner's walk over a job's steps: each step of JOB_STEPS with its body (a step without one does not compile). */
export function createJobSteps (c: JobComponents, parts: JobStepParts) {
  const { rt, leases, runner, log } = parts
  /** Jobs held for want of disk at the last tick: their leases are re-armed when they go on. */
  const held = new Set<string>()

  const bodies: Record<JobStepName, StepBody> = {
    hold (view, { now }) {
      if (runner.isHeld(view.job, now)) {
        held.add(view.job.id)
        return true
      }
      if (held.delete(view.job.id)) leases.rearm(view, now)
    },
    'start plan' (view, { now, planRoom }) {
      if (!planRoom.open() || runner.isBusy(view.job.id) || runner.isHeld(view.job, now)) return
      parts.plans.plan(view.job.id)
      planRoom.take()
    },
    'plan on' (view) {
      if (needsPlan(view.job)) parts.plans.plan(view.job.id)
    },
    assemble (view) {
      runner.runExclusive(view.job.id, 'assembly', () => assembleJob(c, view, { signal: parts.signal }))
      return true
    },
    async expire ({ job, units }, { now }) {
      for (const u of units.filter(isLive)) {
        const state = rt.get(job.id, u.index)
        const until = state.leaseUntil ?? u.leaseUntil ?? 0
        if (state.ended != null && state.ended.attempt === u.attempts) {
          // Its worker ended it, but the log could not take the release then (worker-reports.ts).
          await leases.release(u, state.ended.reason, state.ended.failure)
        } else if (u.worker != null && parts.isGone(u.worker)) {
          // Not a failure: a crashed or unplugged machine says nothing about the unit or the worker's
          // results, so it neither spends an attempt nor counts toward quarantine.
          log.info({ jobId: job.id, index: u.index, worker: u.worker }, 'worker left the mesh: unit offered again')
          const message = `worker ${u.worker} left the mesh (no connection, no capacity advert)`
          await leases.release(u, { code: ErrorCodes.PEER_UNREACHABLE, message }, false)
        } else if (until < now) {
          await leases.expire(u)
        }
      }
    },
    async 'give up' ({ job, units }) {
      const same = rt.peekFailures(job.id)?.same
      if (same != null) {
        const { reason, workers } = same
        const name = (w: string): string =>
          (w === c.mesh.peerId ? c.config.name : c.mesh.peers().find(p => p.id === w)?.name) ?? w
        const where = `its units failed the same way on ${workers.map(name).join(' and ')}`
        await runner.fail(job.id, {
          code: ErrorCodes.CONVERT_FAILED,
          message: `${where}, so the source is the cause, not a node; unit ${same.index}: ${reason.message}`
        })
        return true
      }
      const exhausted = units.find(u => isPending(u) && u.failures >= c.config.jobs.maxAttempts)
      if (exhausted == null) return
      const last = exhausted.lastError
      await runner.fail(job.id, {
        code: ErrorCodes.ATTEMPTS_EXHAUSTED,
        message:
          `unit ${exhausted.index} failed ${exhausted.failures} times; last reason: ${last?.code ?? ''} ${last?.message ?? ''}`.trim()
      })
      return true
    },
    async finish ({ job, units }) {
      if (job.planning === true || units.length === 0 || !units.every(isVerified)) return
      await recordEvent(c, job.id, { type: 'job:assembling' })
      return true
    },
    async offer (view, { now, workers }) {
      await parts.offers.offer(view, now, workers())
    }
  }

  return {
    /** Walks the job's steps that apply to its state, in order, until one ends the walk. */
    async walk (view: JobView, tick: TickContext): Promise<void> {
      for (const { step, states } of JOB_STEPS) {
        if (!(states as readonly JobState[]).includes(view.job.state)) continue
        if ((await bodies[step](view, tick)) === true) return
      }
    },
    /** Forgets a removed job. */
    forget: (jobId: string): void => { held.delete(jobId) }
  }
}

export type JobSteps = ReturnType<typeof createJobSteps>
