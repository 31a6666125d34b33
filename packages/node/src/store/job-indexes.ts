import { TERMINAL_JOB_STATES, type JobState } from '@ffmesh/protocol'
import type { JobView } from './reduce.js'

export interface JobQuery {
  states?: readonly JobState[]
  batch?: string
  idPrefix?: string
  order?: 'oldest' | 'newest'
  offset?: number
  limit?: number
}

/** Pages a list of views; `total` counts every match, not just the page. */
export function pageViews (all: Iterable<JobView>, query: JobQuery): { total: number, views: JobView[] } {
  const matches = [...all].filter(
    v =>
      (query.states == null || query.states.includes(v.job.state)) &&
      (query.batch == null || v.job.library?.batch === query.batch) &&
      (query.idPrefix == null || v.job.id.startsWith(query.idPrefix))
  )
  if (query.order === 'newest') matches.reverse()
  const offset = query.offset ?? 0
  return { total: matches.length, views: matches.slice(offset, query.limit != null ? offset + query.limit : undefined) }
}

/**
 * The unfinished jobs, split into those under way and those still queued, kept as events are
 * applied, so the owner's tick walks the work in flight and the head of the queue, never the
 * finished or queued thousands. Views load in key order (job ids are ULIDs) and join in the order
 * they change: the queue is in submission order, the jobs under way in the order they got under
 * way (the owner sorts its few by id at each tick). Beside them, the output path of every job kept,
 * finished or not.
 */
export interface JobIndexes {
  update(id: string, view: JobView): void
  drop(id: string): void
  rebuild(views: Map<string, JobView>): void
  inFlight(): IterableIterator<JobView>
  queued(): IterableIterator<JobView>
  /** Whether a job kept (finished or not) writes its output at this path. */
  hasOutput(file: string): boolean
}

export function createJobIndexes (): JobIndexes {
  const inFlight = new Map<string, JobView>()
  const queued = new Map<string, JobView>()
  // Every kept job's output path: a watched folder asks for each file it sees whether this node
  // wrote it, and a set built from a library's thousands of jobs at each ask cost more than the ask.
  const jobsWriting = new Map<string, Set<string>>()
  const outputOf = new Map<string, string>()
  const setOutput = (id: string, file: string | null | undefined): void => {
    const before = outputOf.get(id)
    if (before === (file ?? undefined)) return
    if (before != null) {
      const ids = jobsWriting.get(before)
      ids?.delete(id)
      if (ids?.size === 0) jobsWriting.delete(before)
      outputOf.delete(id)
    }
    if (file == null) return
    outputOf.set(id, file)
    const ids = jobsWriting.get(file) ?? new Set<string>()
    ids.add(id)
    jobsWriting.set(file, ids)
  }
  const finished = (id: string): void => {
    inFlight.delete(id)
    queued.delete(id)
  }
  const drop = (id: string): void => {
    finished(id)
    setOutput(id, null)
  }
  const update = (id: string, view: JobView): void => {
    setOutput(id, view.job.output)
    if (view.job.state === 'queued') {
      inFlight.delete(id)
      queued.set(id, view)
    } else if (TERMINAL_JOB_STATES.includes(view.job.state)) {
      finished(id)
    } else {
      queued.delete(id)
      inFlight.set(id, view)
    }
  }
  return {
    update,
    drop,
    rebuild (views) {
      inFlight.clear()
      queued.clear()
      jobsWriting.clear()
      outputOf.clear()
      for (const [id, view] of views) update(id, view)
    },
    inFlight: () => inFlight.values(),
    queued: () => queued.values(),
    hasOutput: file => jobsWriting.has(file)
  }
}
