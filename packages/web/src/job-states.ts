import type { JobState } from '@ffmesh/protocol'

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
