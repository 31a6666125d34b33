import { JobStates, type JobState } from '@ffmesh/protocol'
import type { JobView } from '../store/reduce.js'

export type JobCounts = Record<JobState, number>

function noJobs (): JobCounts {
  return Object.fromEntries(JobStates.map(s => [s, 0])) as JobCounts
}

/** The jobs `owner` owns, by state: a job handed to another node is that node's to count. */
export function countOwned (views: Iterable<JobView>, owner: string): JobCounts {
  const counts = noJobs()
  for (const v of views) if (v.job.owner === owner) counts[v.job.state]++
  return counts
}

export function addCounts (into: JobCounts, from: JobCounts): void {
  for (const s of JobStates) into[s] += from[s]
}
