import { Level } from 'level'
import { ErrorCodes, FfmeshError, TERMINAL_JOB_STATES, unitKey, type JobState } from '@ffmesh/protocol'
import { reduce, type JobView } from './reduce.js'
import type { JobEvent, JobRecord, LoggedEvent, UnitRecord } from './records.js'

/** A sublevel of the job store's LevelDB, for components that keep their own keys. */
export interface Sub<V> {
  get(key: string): Promise<V | undefined>
  put(key: string, value: V): Promise<void>
  del(key: string): Promise<void>
  iterator(options?: { gte?: string, lt?: string }): AsyncIterable<[string, V]>
  keys(options?: { gte?: string, lt?: string }): AsyncIterable<string>
}

/**
 * The job log: an append-only event log in LevelDB with materialized views of jobs and units.
 * Each append writes the event and the records it changed in one synced atomic batch, so after a
 * crash at any instant the views equal the replay of the log (tested in job-store.test.ts).
 */
export interface JobStore {
  append(jobId: string, event: JobEvent): Promise<LoggedEvent>
  /**
   * Many events in one synced write (a scan queues thousands of jobs: one fsync per job would cost
   * more than the scan), with puts into text areas in the same atomic batch.
   */
  appendBatch(events: Array<{ jobId: string, event: JobEvent }>, puts?: AreaPut[]): Promise<LoggedEvent[]>
  job(id: string): JobView | undefined
  jobs(): JobView[]
  /**
   * Jobs not yet done, failed, cancelled or skipped: those under way, then the queued ones, each
   * oldest first, from indexes kept as events are applied. The owner's tick walks the jobs under
   * way and only the head of the queue, never the finished or queued thousands.
   */
  unfinished(): IterableIterator<JobView>
  /** Jobs running or assembling (planned in part or whole), oldest first. */
  inFlight(): IterableIterator<JobView>
  /** Queued jobs (not planned yet), oldest first. */
  queued(): IterableIterator<JobView>
  /** One page of jobs in submission order (or newest first), filtered by state and scan batch. */
  list(query: JobQuery): { total: number, views: JobView[] }
  /** Events of one job, in order (for tests and `replay`). */
  history(jobId: string): Promise<LoggedEvent[]>
  /** A namespaced key-value area for other components (watch manager, held results). */
  area(name: string): Sub<unknown>
  /** The same with string values, for components that encode their own. */
  textArea(name: string): Sub<string>
  close(): Promise<void>
}

const SEQ_WIDTH = 16

/** A key to write into (or, with a null value, remove from) a text area with a batch of events. */
export interface AreaPut { area: string, key: string, value: string | null }

export interface JobQuery { states?: readonly JobState[], batch?: string, order?: 'oldest' | 'newest', offset?: number, limit?: number }

const isTerminal = (state: JobState): boolean => TERMINAL_JOB_STATES.includes(state)

/** Pages a list of views; `total` counts every match, not just the page. */
export function pageViews (all: Iterable<JobView>, query: JobQuery): { total: number, views: JobView[] } {
  const matches = [...all].filter(v => (query.states == null || query.states.includes(v.job.state)) && (query.batch == null || v.job.library?.batch === query.batch))
  if (query.order === 'newest') matches.reverse()
  const offset = query.offset ?? 0
  return { total: matches.length, views: matches.slice(offset, query.limit != null ? offset + query.limit : undefined) }
}

export async function openJobStore (init: { path: string, clock?: () => number }): Promise<JobStore> {
  const clock = init.clock ?? Date.now
  const db = new Level<string, unknown>(init.path, { valueEncoding: 'json' })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    if (/lock/i.test(String(cause?.message ?? '')) || cause?.code === 'LEVEL_LOCKED') {
      throw new FfmeshError(ErrorCodes.NODE_ALREADY_RUNNING, `another ffmesh node is using the job store at ${init.path}; stop it first, or give this one its own --data-dir`)
    }
    throw err
  }
  const log = db.sublevel<string, LoggedEvent>('log', { valueEncoding: 'json' })
  const jobsDb = db.sublevel<string, JobRecord>('jobs', { valueEncoding: 'json' })
  const unitsDb = db.sublevel<string, UnitRecord>('units', { valueEncoding: 'json' })

  const views = new Map<string, JobView>()
  for await (const job of jobsDb.values()) views.set(job.id, { job, units: [] })
  for await (const unit of unitsDb.values()) {
    const view = views.get(unit.jobId)
    if (view != null) view.units[unit.index] = unit
  }
  // Job ids are ULIDs, so LevelDB gives the jobs in submission order; the indexes keep that order.
  const inFlight = new Map<string, JobView>()
  const queued = new Map<string, JobView>()
  const index = (id: string, view: JobView): void => {
    if (view.job.state === 'queued') {
      inFlight.delete(id)
      queued.set(id, view)
    } else if (isTerminal(view.job.state)) {
      inFlight.delete(id)
      queued.delete(id)
    } else {
      queued.delete(id)
      inFlight.set(id, view)
    }
  }
  for (const [id, view] of views) index(id, view)
  let seq = 0
  for await (const key of log.keys({ reverse: true, limit: 1 })) seq = Number(key)

  const textAreas = new Map<string, Sub<string>>()
  const textArea = (name: string): Sub<string> => {
    let area = textAreas.get(name)
    if (area == null) {
      area = db.sublevel<string, string>(`area:${name}`, { valueEncoding: 'utf8' }) as never as Sub<string>
      textAreas.set(name, area)
    }
    return area
  }

  // Appends are serialized so seq order equals the order views were changed in.
  let tail: Promise<unknown> = Promise.resolve()

  const applyView = (jobId: string, change: { job?: JobRecord, units: UnitRecord[] }): void => {
    if (change.job == null) return
    const view = views.get(jobId) ?? { job: change.job, units: [] }
    view.job = change.job
    for (const u of change.units) view.units[u.index] = u
    views.set(jobId, view)
    index(jobId, view)
  }

  const appendAll = (events: Array<{ jobId: string, event: JobEvent }>, puts: AreaPut[]): Promise<LoggedEvent[]> => {
    const run = async (): Promise<LoggedEvent[]> => {
      const time = clock()
      // One batch across sublevels is one atomic LevelDB write; sync makes it durable on return.
      const batch = db.batch()
      const logged: LoggedEvent[] = []
      // Events of one batch may build on each other (a job submitted, then skipped): reduce each
      // against the views as the ones before it left them, and apply them only once written.
      const pending = new Map<string, JobView>()
      const changes: Array<{ jobId: string, change: { job?: JobRecord, units: UnitRecord[] } }> = []
      for (const [i, { jobId, event }] of events.entries()) {
        const entry: LoggedEvent = { seq: seq + 1 + i, time, jobId, event }
        const before = pending.get(jobId) ?? views.get(jobId)
        const change = reduce(before, event, time)
        if (change.job != null) {
          const units = [...(before?.units ?? [])]
          for (const u of change.units) units[u.index] = u
          pending.set(jobId, { job: change.job, units })
        }
        batch.put(String(entry.seq).padStart(SEQ_WIDTH, '0'), entry, { sublevel: log as never })
        if (change.job != null) batch.put(jobId, change.job, { sublevel: jobsDb as never })
        for (const u of change.units) batch.put(unitKey(u.jobId, u.index), u, { sublevel: unitsDb as never })
        logged.push(entry)
        changes.push({ jobId, change })
      }
      for (const put of puts) {
        if (put.value == null) batch.del(put.key, { sublevel: textArea(put.area) as never } as never)
        else batch.put(put.key, put.value, { sublevel: textArea(put.area) as never, valueEncoding: 'utf8' } as never)
      }
      await batch.write({ sync: true } as never)
      seq += events.length
      for (const { jobId, change } of changes) applyView(jobId, change)
      return logged
    }
    const p = tail.then(run, run)
    tail = p.catch(() => {})
    return p
  }

  return {
    append: async (jobId, event) => (await appendAll([{ jobId, event }], []))[0] as LoggedEvent,
    appendBatch: (events, puts = []) => appendAll(events, puts),
    job: (id) => views.get(id),
    jobs: () => [...views.values()].sort((a, b) => a.job.createdAt - b.job.createdAt || a.job.id.localeCompare(b.job.id)),
    * unfinished () {
      yield * inFlight.values()
      yield * queued.values()
    },
    inFlight: () => inFlight.values(),
    queued: () => queued.values(),
    list: (query) => pageViews(views.values(), query),
    async history (jobId) {
      const out: LoggedEvent[] = []
      for await (const e of log.values()) if (e.jobId === jobId) out.push(e)
      return out
    },
    area: (name) => db.sublevel<string, unknown>(`area:${name}`, { valueEncoding: 'json' }) as never,
    textArea,
    async close () {
      await tail.catch(() => {})
      await db.close()
    }
  }
}
