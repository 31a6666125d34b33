import { TERMINAL_JOB_STATES, toErrorBody, type ErrorBody } from '@ffmesh/protocol'
import type { Logger } from '../../logger.js'
import type { JobView } from '../../store/reduce.js'
import type { JobComponents } from '../shared/deps.js'
import { isDiskFullError } from '../../media/disk-full.js'
import { failedForSpace, holdReason } from '../shared/disk-hold.js'
import { recordEvent } from '../shared/record-event.js'
import type { Leases } from './lease.js'
import type { OwnerState } from './owner-state.js'

/**
 * A step that ran out of space waits this long before it runs again, unless the disk monitor sees
 * space come back first: a job can need more than the reserve (a large output on a small free
 * disk), and the monitor alone would let it fail and retry at every tick.
 */
export const SPACE_RETRY_MS = 30_000
/** How often a stopping owner looks whether its last steps have ended. */
const STOP_POLL_MS = 20

export interface StepRunnerParts { rt: OwnerState, leases: Leases, log: Logger }

/**
 * Runs a job's long steps (its plan, its assembly) one at a time per job, and decides what their
 * failure means: a full disk holds the job until there is space, anything else fails it.
 */
export function createStepRunner (c: JobComponents, parts: StepRunnerParts) {
  const { rt, leases, log } = parts
  const busy = new Set<string>()
  /** Jobs whose last step ran out of space, and until when they wait (cleared when space returns). */
  const spaceWait = new Map<string, number>()

  /** Fails the job (unless it ended already) and tells every worker holding one of its units to stop. */
  async function fail (jobId: string, error: ErrorBody): Promise<void> {
    const view = c.store.job(jobId)
    if (view == null || TERMINAL_JOB_STATES.includes(view.job.state)) return
    await recordEvent(c, jobId, { type: 'job:failed', error }, { data: { ...error } })
    await leases.revokeJob(view, 'job failed')
    rt.forgetJob(jobId)
  }

  return {
    fail,
    isBusy: (jobId: string): boolean => busy.has(jobId),

    /** Starts `fn` for the job unless one of its steps runs already; returns at once. */
    runExclusive (jobId: string, what: string, fn: () => Promise<void>): void {
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
    },

    /** Held for want of disk: nothing is planned, offered, expired or assembled meanwhile. */
    isHeld: (job: JobView['job'], now: number): boolean =>
      holdReason(c, job) != null || (spaceWait.get(job.id) ?? 0) > now,

    /** Space came back: every step that waited for it may run again. */
    spaceReturned: (): void => spaceWait.clear(),

    /** Why a job waits after a step ran out of space (null when it does not). */
    spaceHold (jobId: string): string | null {
      const until = spaceWait.get(jobId) ?? 0
      return until > c.clock()
        ? `its last step ran out of disk space; it runs again when space is freed, or in ${Math.ceil((until - c.clock()) / 1000)} s`
        : null
    },

    forget: (jobId: string): void => { spaceWait.delete(jobId) },

    /** Resolves once no step runs (a stopping owner waits for them: they were aborted). */
    async idle (): Promise<void> {
      while (busy.size > 0) await new Promise(resolve => setTimeout(resolve, STOP_POLL_MS))
    }
  }
}

export type StepRunner = ReturnType<typeof createStepRunner>
