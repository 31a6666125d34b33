import { Level } from 'level'
import { ErrorCodes, FfmeshError, unitKey } from '@ffmesh/protocol'
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
  job(id: string): JobView | undefined
  jobs(): JobView[]
  /** Events of one job, in order (for tests and `replay`). */
  history(jobId: string): Promise<LoggedEvent[]>
  /** A namespaced key-value area for other components (watch manager, held results). */
  area(name: string): Sub<unknown>
  /** The same with string values, for components that encode their own. */
  textArea(name: string): Sub<string>
  close(): Promise<void>
}

const SEQ_WIDTH = 16

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
  let seq = 0
  for await (const key of log.keys({ reverse: true, limit: 1 })) seq = Number(key)

  // Appends are serialized so seq order equals the order views were changed in.
  let tail: Promise<unknown> = Promise.resolve()

  return {
    append (jobId, event) {
      const run = async (): Promise<LoggedEvent> => {
        const time = clock()
        const logged: LoggedEvent = { seq: seq + 1, time, jobId, event }
        const change = reduce(views.get(jobId), event, time)
        // One batch across sublevels is one atomic LevelDB write; sync makes it durable on return.
        const batch = db.batch()
        batch.put(String(logged.seq).padStart(SEQ_WIDTH, '0'), logged, { sublevel: log as never })
        if (change.job != null) batch.put(jobId, change.job, { sublevel: jobsDb as never })
        for (const u of change.units) batch.put(unitKey(u.jobId, u.index), u, { sublevel: unitsDb as never })
        await batch.write({ sync: true } as never)
        seq = logged.seq
        if (change.job != null) {
          const view = views.get(jobId) ?? { job: change.job, units: [] }
          view.job = change.job
          for (const u of change.units) view.units[u.index] = u
          views.set(jobId, view)
        }
        return logged
      }
      const p = tail.then(run, run)
      tail = p.catch(() => {})
      return p
    },
    job: (id) => views.get(id),
    jobs: () => [...views.values()].sort((a, b) => a.job.createdAt - b.job.createdAt || a.job.id.localeCompare(b.job.id)),
    async history (jobId) {
      const out: LoggedEvent[] = []
      for await (const e of log.values()) if (e.jobId === jobId) out.push(e)
      return out
    },
    area: (name) => db.sublevel<string, unknown>(`area:${name}`, { valueEncoding: 'json' }) as never,
    textArea: (name) => db.sublevel<string, string>(`area:${name}`, { valueEncoding: 'utf8' }) as never,
    async close () {
      await tail.catch(() => {})
      await db.close()
    }
  }
}
