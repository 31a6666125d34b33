import { TERMINAL_JOB_STATES, type JobState } from '@ffmesh/protocol'
import type { JobView } from './reduce.js'

export interface JobQuery {
  states?: readonly JobState[]
  batch?: string
  order?: 'oldest' | 'newest'
  offset?: number
  limit?: number
}

/** Pages a list of views; `total` counts every match, not just the page. */
export function pageViews (all: Iterable<JobView>, query: JobQuery): { total: number, views: JobView[] } {
  const matches = [...all].filter(
    v =>
      (query.states == null || query.states.includes(v.job.state)) &&
      (query.batch == null || v.job.library?.batch === query.batch)
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
 * way (the owner sorts its few by id at each tick).
 */
export interface JobIndexes {
  update(id: string, view: JobView): void
  drop(id: string): void
  rebuild(views: Map<string, JobView>): void
  inFlight(): IterableIterator<JobView>
  queued(): IterableIterator<JobView>
}

export function createJobIndexes (): JobIndexes {
  const inFlight = new Map<string, JobView>()
  const queued = new Map<string, JobView>()
  const drop = (id: string): void => {
    inFlight.delete(id)
    queued.delete(id)
  }
  const update = (id: string, view: JobView): void => {
    if (view.job.state === 'queued') {
      inFlight.delete(id)
      queued.set(id, view)
    } else if (TERMINAL_JOB_STATES.includes(view.job.state)) {
      drop(id)
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
      for (const [id, view] of views) update(id, view)
    },
    inFlight: () => inFlight.values(),
    queued: () => queued.values()
  }
}
