import type { JobView } from '../../store/reduce.js'
import { createTaskLimiter } from '../../task-limiter.js'
import type { JobComponents } from '../shared/deps.js'
import { meshSlots, type ProgressOf } from './cut-policy.js'
import { planJob } from './planner.js'
import type { StepRunner } from './step-runner.js'

/** How many more plans may start at this tick. */
export interface PlanRoom { open(): boolean, take(): void }

/**
 * Queued jobs start in submission order, a few at a time: each plan probes and cuts its source
 * (an ffmpeg reading it), and a planned job's pieces wait on disk until workers take them. So at
 * most jobs.maxPlanning plans run at once, and no new one starts while the planned jobs already
 * have more than a round of the mesh's slots to do.
 */
export function createPlanStarts (
  c: JobComponents,
  parts: { runner: StepRunner, signal: AbortSignal, progressOf: ProgressOf }
) {
  const planning = new Set<string>()
  // Whole-file plans read their sources one at a time (planner.ts says why).
  const wholeReads = createTaskLimiter(1)
  return {
    /** Plans the job (or the rest of its plan) unless one of its steps runs already. */
    plan (jobId: string): void {
      if (parts.runner.isBusy(jobId)) return
      planning.add(jobId)
      parts.runner.runExclusive(jobId, 'planning', async () => {
        try {
          await planJob(c, jobId, { signal: parts.signal, progressOf: parts.progressOf, wholeReads })
        } finally {
          planning.delete(jobId)
        }
      })
    },
    /** The room for new plans, given this owner's jobs under way. */
    room (inFlight: JobView[]): PlanRoom {
      const slots = meshSlots(c)
      let running = inFlight.filter(v => !planning.has(v.job.id)).length
      return {
        open: () => planning.size < c.config.jobs.maxPlanning && running < slots + c.config.jobs.maxPlanning,
        take: () => { running++ }
      }
    }
  }
}

export type PlanStarts = ReturnType<typeof createPlanStarts>
