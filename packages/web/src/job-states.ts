import type { JobState, JobStatus } from '@ffmesh/protocol'

export type { JobState }

/** The job states in the order a job goes through them (the protocol's list, checked by type). */
export const JobStates = [
  'queued',
  'running',
  'assembling',
  'done',
  'skipped',
  'failed',
  'cancelled'
] as const satisfies readonly JobState[]

type Assert<T extends true> = T
/** Fails to compile when the protocol gains a job state this list lacks. */
export type EveryJobStateListed = Assert<Exclude<JobState, typeof JobStates[number]> extends never ? true : false>

export function isJobState (value: string | null): value is JobState {
  return value != null && (JobStates as readonly string[]).includes(value)
}

/**
 * A done job lets its units go after jobs.doneUnitsRetentionSeconds, keeping its totals: it has
 * no units left to count or to draw.
 */
export function unitsLetGo (job: Pick<JobStatus, 'state' | 'units'>): boolean {
  return job.state === 'done' && job.units.length === 0
}
