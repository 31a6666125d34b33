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
 * finished or queued thousands. Each lists its jobs in submission order (job ids are ULIDs), the
 * order the owner offers in: a job joins the jobs under way when its plan starts, and plans end
 * out of order (a short file's before a long one's), so a job that joins behind a later one is put
 * back in its place. Walked in joining order, a 60 s clip planned first took the one free slot
 * ahead of a 120 s clip submitted before it (bench/batch).
 */
export interface JobIndexes {
  update(id: string, view: JobView): void
  drop(id: string): void
  rebuild(views: Map<string, JobView>): void
  inFlight(): IterableIterator<JobView>
  queued(): IterableIterator<JobView>
}

export function createJobIndexes (): JobIndexes {
  const inFlight = createKeyOrdered()
  const queued = createKeyOrdered()
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

/**
 * Views kept in key order. A new key is almost always the greatest (a new job, a scan's ten
 * thousand): it is appended after one comparison with the greatest key. One that is not (a job
 * whose plan started, a retried one) re-sorts the views, once per such join.
 */
function createKeyOrdered () {
  const map = new Map<string, JobView>()
  /** The greatest key, or undefined when it must be looked for (it was deleted). */
  let greatest: string | undefined
  const findGreatest = (): string | undefined => {
    let max: string | undefined
    for (const key of map.keys()) if (max == null || key > max) max = key
    return max
  }
  return {
    set (id: string, view: JobView): void {
      if (map.has(id)) {
        map.set(id, view)
        return
      }
      greatest ??= findGreatest()
      map.set(id, view)
      if (greatest == null || id > greatest) {
        greatest = id
        return
      }
      const sorted = [...map].sort(([a], [b]) => (a < b ? -1 : 1))
      map.clear()
      for (const [key, v] of sorted) map.set(key, v)
    },
    delete (id: string): void {
      if (map.delete(id) && id === greatest) greatest = undefined
    },
    clear (): void {
      map.clear()
      greatest = undefined
    },
    values: () => map.values()
  }
}
