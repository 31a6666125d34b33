import fs from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, FfmeshError, unitKey } from '@ffmesh/protocol'
import { pino } from 'pino'
import type { Logger } from '../logger.js'
import { checkLog, isIntact, type LogDamage } from './log-check.js'
import { damageOps, describeDamage } from './log-damage.js'
import {
  diskFullAtOpen,
  hasLevelFiles,
  indexKey,
  isDiskFull,
  openLevel,
  parseIndexKey,
  readError,
  recoveryDrops,
  seqKey,
  storeCorrupt,
  sublevels,
  type LogLevel,
  type MetaRecord,
  type Sublevels
} from './log-db.js'
import { INDEXED_LOG_VERSION, loadLog, LOG_VERSION, migrateLog, unitKeysOf } from './log-load.js'
import { newLogId, readLogMarker, writeLogMarker } from './log-marker.js'
import { createLogReserve } from './log-reserve.js'
import { freeDiskBytes } from './free-space.js'
import { createLogWriter, type BatchOp, type Staged } from './log-writer.js'
import { createJobIndexes, pageViews, type JobQuery } from './job-indexes.js'
import { createGapRuns } from './gap-runs.js'
import { summarize } from './job-summary.js'
import { reduce, type JobView } from './reduce.js'
import type { JobEvent, LoggedEvent } from './records.js'

export type { JobQuery } from './job-indexes.js'

/** A sublevel of the job store's LevelDB, for components that keep their own keys. */
export interface Sub<V> {
  get(key: string): Promise<V | undefined>
  put(key: string, value: V): Promise<void>
  del(key: string): Promise<void>
  iterator(options?: { gte?: string, lt?: string }): AsyncIterable<[string, V]>
  keys(options?: { gte?: string, lt?: string }): AsyncIterable<string>
}

/** Where a job log lives: its LevelDB folder, its marker file and its reserve file (config/paths.ts). */
export interface JobLogFiles { db: string, marker: string, reserve: string }

/** What opening the log found. */
export interface OpenReport {
  id: string
  /** A new, empty log was made (a new data dir). */
  created: boolean
  /** Nothing was lost: no record missing, no job held. */
  intact: boolean
  damage: LogDamage
  drops: { count: number, bytes: number }
  /** When a loss was last recorded in this log (null if never): blobs older than that may belong to lost records. */
  damagedAt: number | null
}

/**
 * The job log: an append-only event log in LevelDB with materialized views of jobs and units.
 * Each append writes the event, its place in its job's numbering and the records it changed in
 * one synced atomic batch, so after a crash at any instant the views equal the replay of the log.
 * A log that lost records is never taken for a whole one (log-check.ts), and a failed write never
 * leaves memory and disk apart (log-writer.ts).
 */
export interface JobStore {
  append(jobId: string, event: JobEvent): Promise<LoggedEvent>
  /**
   * Many events in one synced write (a scan queues thousands of jobs: one fsync per job would cost
   * more than the scan), with puts into text areas in the same atomic batch.
   */
  appendBatch(events: Array<{ jobId: string, event: JobEvent }>, puts?: AreaPut[]): Promise<LoggedEvent[]>
  /**
   * Deletes a job's events and records (`ffmesh rm`), leaving a tombstone so the numbering stays
   * whole. `mayRemove` looks at the job as the write finds it (after any event queued before it)
   * and throws to refuse: a retry that raced the command must not lose the job it started again.
   */
  remove(jobId: string, mayRemove?: (view: JobView) => void): Promise<void>
  /**
   * Lets done jobs' units go (job:compacted) in one synced write: their unit records and every
   * event of theirs before this one, whose numbers become runs of known gaps (gap-runs.ts), so a
   * log of months of jobs opens as fast as one of its last weeks. `due` looks at each job as read
   * and again as the write finds it: a job it refuses then, or one removed, is left as it is.
   * Returns the ids of the jobs compacted.
   */
  compact(jobIds: string[], due: (view: JobView) => boolean): Promise<string[]>
  job(id: string): JobView | undefined
  /** Every job, oldest first: a copy, sorted at each call. */
  jobs(): JobView[]
  /**
   * Every job, in no order and without a copy: for a walk that looks at each job on its own and
   * runs often (the handoff's tick each second), where sorting a library's thousands would cost
   * more than the walk. Live: a walk that awaits between jobs wants jobs()'s snapshot instead.
   */
  each(): IterableIterator<JobView>
  /** Jobs not yet done, failed, cancelled or skipped: those under way, then the queued ones, each oldest first. */
  unfinished(): IterableIterator<JobView>
  /** Jobs running or assembling (planned in part or whole), oldest first. */
  inFlight(): IterableIterator<JobView>
  /** Queued jobs (not planned yet), oldest first. */
  queued(): IterableIterator<JobView>
  /** Whether a job kept in the log (finished or not) writes its output at this path. */
  hasOutput(file: string): boolean
  /** One page of jobs in submission order (or newest first), filtered by state and scan batch. */
  list(query: JobQuery): { total: number, views: JobView[] }
  /** Events of one job, in order. */
  history(jobId: string): Promise<LoggedEvent[]>
  /** A namespaced key-value area for other components (watch manager, held results). */
  area(name: string): Sub<unknown>
  /** The same with string values, for components that encode their own. */
  textArea(name: string): Sub<string>
  /** Why the log takes no writes now (a full disk, a reopen after a failed write), or null. */
  problem(): FfmeshError | null
  /** Bytes of the log's reserve file not held now (given to the log on a nearly full disk). */
  reserveMissing(): number
  readonly opened: OpenReport
  close(): Promise<void>
}

/** A key to write into (or, with a null value, remove from) a text area with a batch of events. */
export interface AreaPut { area: string, key: string, value: string | null }

export interface OpenJobStoreInit {
  files: JobLogFiles
  clock?: () => number
  logger?: Logger
  /**
   * `ffmesh repair` only: take whatever the log holds as this data dir's log (its id, a cut-short
   * end), recording every loss, instead of refusing to start with STORE_CORRUPT.
   */
  adopt?: boolean
  /** Free bytes on the log's filesystem; replaced in tests. */
  freeBytes?: (dir: string) => Promise<number>
}

/** Events that record work already done or free space: they may use the log's reserve. */
const ESSENTIAL = new Set<JobEvent['type']>([
  'unit:returned',
  'unit:verified',
  'unit:released',
  'job:done',
  'job:failed',
  'job:cancelled',
  'job:delivered',
  'job:remote-state',
  'job:damaged',
  'job:blobs-freed',
  'job:removed'
])
/** Reads of a job's index `remove` makes while events keep arriving for the job, before it gives up. */
const MAX_REMOVE_READS = 5

/** Thrown inside a removal's write when the job changed since its index was read: it is read again. */
class StaleRead extends Error {}
/** The marker's record count is brought up to date at most this often (and at close). */
const MARKER_EVERY_MS = 2_000

export async function openJobStore (init: OpenJobStoreInit): Promise<JobStore> {
  const { files } = init
  const clock = init.clock ?? Date.now
  const logger = init.logger ?? pino({ level: 'silent' })
  const freeBytes = init.freeBytes ?? freeDiskBytes
  const marker = await readLogMarker(files.marker)
  const held = await hasLevelFiles(files.db)
  const create = marker == null && !held
  if (
    marker == null &&
    held &&
    !(await fs.stat(path.join(files.db, 'CURRENT')).then(
      () => true,
      () => false
    )) &&
    init.adopt !== true
  ) {
    throw storeCorrupt(files.db, 'has table and log files but no CURRENT file')
  }
  const reserve = await createLogReserve({ file: files.reserve })
  // Recovery at open writes the recovered records to a table: give it the reserve's room.
  await reserve.release()
  let db = await openLevel(files.db, { create: create || init.adopt === true })
  let subs = sublevels(db)
  const views = new Map<string, JobView>()
  const indexes = createJobIndexes()
  const gapRuns = createGapRuns()
  let lastSeq = 0
  let report: OpenReport
  try {
    let meta = await subs.meta.get('store').catch((err: unknown) => { throw readError(err, files.db) })
    if (marker != null && meta?.id !== marker.id && init.adopt !== true) {
      throw storeCorrupt(
        files.db,
        meta == null
          ? `holds no log id, so it is not the log this data dir held (log ${marker.id}); it may have been replaced by an empty one`
          : `is log ${meta.id}, but this data dir held log ${marker.id}`
      )
    }
    if (meta == null || meta.id !== (marker?.id ?? meta.id)) {
      // A log written before event numbering (no `jobSeq`) is given its index below; a numbered one
      // that lost its meta record keeps its numbers, so its gaps still show.
      const numbered = (await subs.byJob.keys({ limit: 1 }).all()).length > 0
      const events = (await subs.log.keys({ limit: 1 }).all()).length > 0
      meta = {
        id: marker?.id ?? newLogId(),
        version: events && !numbered ? 1 : LOG_VERSION,
        damagedAt: meta?.damagedAt ?? null
      }
      await db.batch(
        [{ type: 'put', sublevel: subs.meta, key: 'store', value: meta }] as never,
        { sync: true } as never
      )
    }
    if (meta.version > LOG_VERSION) {
      throw new FfmeshError(
        ErrorCodes.STORE_TOO_NEW,
        `the job log ${files.db} has layout ${meta.version}, written by a newer ffmesh; this one reads up to ${LOG_VERSION}. Run the newer version`
      )
    }
    if (meta.version < INDEXED_LOG_VERSION) {
      await migrateLog(subs, ops => db.batch(ops as never, { sync: true } as never))
    }
    if (meta.version < LOG_VERSION) {
      meta = { ...meta, version: LOG_VERSION }
      await db.batch(
        [{ type: 'put', sublevel: subs.meta, key: 'store', value: meta }] as never,
        { sync: true } as never
      )
    }
    report = await loadChecked(db, subs, meta, marker?.seq ?? 0, create)
    if (marker == null || init.adopt === true) {
      await writeLogMarker(files.marker, { id: meta.id, seq: lastSeq }).catch((err: unknown) => {
        throw isDiskFull(err) ? diskFullAtOpen(files.db) : err
      })
    }
  } catch (err) {
    await db.close().catch(() => {})
    throw err
  }

  /** Loads the views, checks them, and records (once) any loss found; returns what was found. */
  async function loadChecked (
    level: LogLevel,
    s: Sublevels,
    meta: MetaRecord,
    markerSeq: number,
    created: boolean
  ): Promise<OpenReport> {
    const loaded = await loadLog(s, { dbPath: files.db, markerSeq })
    const damage = checkLog(loaded.scan)
    const drops = await recoveryDrops(files.db)
    if (damage.cutShort && init.adopt !== true) {
      throw storeCorrupt(
        files.db,
        `ends at record ${loaded.scan.lastSeq}, but this data dir's marker says it held ${markerSeq}: acknowledged records at its end are missing (was its write-ahead log cut short?)`
      )
    }
    views.clear()
    for (const [id, view] of loaded.views) views.set(id, view)
    gapRuns.reset(loaded.compactedRuns)
    lastSeq = Math.max(loaded.scan.lastSeq, markerSeq)
    const intact = isIntact(damage)
    let damagedAt = meta.damagedAt ?? null
    if (!intact) {
      damagedAt = clock()
      for (const [id, count] of damage.eventCounts) {
        const view = views.get(id) as JobView
        view.job = { ...view.job, eventCount: count }
      }
      const lostIndexKeys: string[] = []
      for (const id of damage.lostJobs) {
        lostIndexKeys.push(...(await s.byJob.keys({ gte: `${id}!`, lt: `${id}"` }).all()))
      }
      const { ops, events } = damageOps(s, loaded.scan, damage, lostIndexKeys, damagedAt)
      const staged = events.map((e, i) => stage(s, e.jobId, e.event, lastSeq + 1 + i, damagedAt as number))
      ops.push(...staged.flatMap(st => st.ops), {
        type: 'put',
        sublevel: s.meta,
        key: 'store',
        value: { ...meta, damagedAt }
      })
      await level.batch(ops as never, { sync: true } as never)
      for (const st of staged) st.commit()
      for (const id of damage.lostJobs) views.delete(id)
      logger.error(
        describeDamage(damage, drops),
        'the job log lost records: the jobs they touched are held until a person retries or removes them (ffmesh status says which)'
      )
    } else if (init.adopt === true) {
      // A repaired log may have lost records no check can see (a whole table gone): blobs older
      // than the repair are kept even if no record names them.
      damagedAt = clock()
      await level.batch(
        [{ type: 'put', sublevel: s.meta, key: 'store', value: { ...meta, damagedAt } }] as never,
        { sync: true } as never
      )
    } else if (drops.count > 0) {
      logger.error(
        { droppedByLevelDb: drops },
        'LevelDB dropped bytes from the job log while recovering it, but no acknowledged job record is missing'
      )
    }
    indexes.rebuild(views)
    return { id: meta.id, created, intact, damage, drops, damagedAt }
  }

  /** A job's removal: a tombstone event, its events and index deleted (gaps kept), its job and unit records. */
  function removalOps (
    jobId: string,
    view: JobView,
    entries: Array<[string, number]>,
    seq: number,
    now: number
  ): BatchOp[] {
    const ops: BatchOp[] = [
      {
        type: 'put',
        sublevel: subs.log,
        key: seqKey(seq),
        value: { seq, time: now, jobId, event: { type: 'job:removed' } } satisfies LoggedEvent
      }
    ]
    for (const [key, s] of entries) {
      ops.push({ type: 'del', sublevel: subs.byJob, key })
      if (s > 0) ops.push({ type: 'del', sublevel: subs.log, key: seqKey(s) })
      // A record a repair brought back inside a run of gaps: its run accounts for it already, and
      // a gap record of its own at a run's first number would replace the run's.
      if (s > 0 && !gapRuns.covers(s)) {
        ops.push({ type: 'put', sublevel: subs.gaps, key: seqKey(s), value: { why: 'removed', jobId, at: now } })
      }
    }
    ops.push(
      { type: 'del', sublevel: subs.jobs, key: jobId },
      ...unitKeysOf(view).map(key => ({ type: 'del' as const, sublevel: subs.units, key }))
    )
    return ops
  }

  /**
   * The batch for one event: the event, its index entry, and the records it changed. Events staged
   * into one batch may build on each other (a job submitted, then skipped): `pending` holds the
   * views as the ones before left them, until the batch is written and committed.
   */
  function stage (
    s: Sublevels,
    jobId: string,
    event: JobEvent,
    seq: number,
    time: number,
    pending?: Map<string, JobView>
  ): Staged<LoggedEvent> {
    const view = pending?.get(jobId) ?? views.get(jobId)
    if (view == null && event.type !== 'job:submitted') {
      throw new FfmeshError(ErrorCodes.JOB_NOT_FOUND, `no job ${jobId} in the job log`)
    }
    const jobSeq = (view?.job.eventCount ?? 0) + 1
    const change = reduce(view, event, time)
    const job = { ...(change.job ?? (view as JobView).job), eventCount: jobSeq, lastSeq: seq }
    const logged: LoggedEvent = { seq, time, jobId, event, jobSeq }
    const dropped = change.dropUnits === true && view != null ? unitKeysOf(view) : []
    if (pending != null) {
      const units = change.dropUnits === true ? [] : [...(view?.units ?? [])]
      for (const u of change.units) units[u.index] = u
      pending.set(jobId, { job, units })
    }
    const ops: BatchOp[] = [
      { type: 'put', sublevel: s.log, key: seqKey(seq), value: logged },
      { type: 'put', sublevel: s.byJob, key: indexKey(jobId, jobSeq), value: seq },
      { type: 'put', sublevel: s.jobs, key: jobId, value: job },
      ...dropped.map(key => ({ type: 'del' as const, sublevel: s.units, key })),
      ...change.units.map(u => ({ type: 'put' as const, sublevel: s.units, key: unitKey(u.jobId, u.index), value: u }))
    ]
    return {
      ops,
      commit () {
        lastSeq = Math.max(lastSeq, seq)
        const next = views.get(jobId) ?? { job, units: [] }
        next.job = job
        if (change.dropUnits === true) next.units = []
        for (const u of change.units) next.units[u.index] = u
        views.set(jobId, next)
        indexes.update(jobId, next)
        return logged
      }
    }
  }

  /** A job's entries in the per-job index: event number key → record number (0: a placeholder for a lost one). */
  const indexOf = (jobId: string): Promise<Array<[string, number]>> =>
    subs.byJob.iterator({ gte: `${jobId}!`, lt: `${jobId}"` }).all()

  const writer = createLogWriter({
    dbPath: files.db,
    db,
    reserve,
    logger,
    freeBytes,
    async reopen () {
      const level = await openLevel(files.db, { create: false })
      try {
        const s = sublevels(level)
        const meta = await s.meta.get('store') as MetaRecord
        report = await loadChecked(level, s, meta, lastSeq, false)
      } catch (err) {
        await level.close().catch(() => {})
        throw err
      }
      db = level
      subs = sublevels(level)
      return level
    }
  })
  await reserve.ensure(await freeBytes(path.dirname(files.db)).catch(() => 0))

  let markerTimer: NodeJS.Timeout | undefined
  let markerSeq = marker?.seq ?? 0
  const saveMarker = async (): Promise<void> => {
    if (lastSeq === markerSeq) return
    const seq = lastSeq
    await writeLogMarker(files.marker, { id: report.id, seq }).then(
      () => {
        markerSeq = Math.max(markerSeq, seq)
      },
      (err: unknown) => logger.warn({ err }, 'the job log marker could not be brought up to date; trying again later')
    )
  }
  const markerSoon = (): void => {
    if (markerTimer != null) return
    markerTimer = setTimeout(() => { markerTimer = undefined; void saveMarker() }, MARKER_EVERY_MS)
    markerTimer.unref()
  }

  // One sublevel per area and open database: abstract-level keeps every sublevel it makes attached
  // to its parent (hooks, listeners), so making one per read or write held about 5 KiB per job.
  const areas = new WeakMap<LogLevel, Map<string, unknown>>()
  const areaOf = <V>(level: LogLevel, name: string, encoding: 'json' | 'utf8') => {
    let made = areas.get(level)
    if (made == null) areas.set(level, made = new Map())
    const key = `${encoding}:${name}`
    let sub = made.get(key) as ReturnType<typeof level.sublevel<string, V>> | undefined
    if (sub == null) made.set(key, sub = level.sublevel<string, V>(`area:${name}`, { valueEncoding: encoding }))
    return sub
  }
  const area = <V>(name: string, encoding: 'json' | 'utf8'): Sub<V> => {
    const subOf = (level: LogLevel) => areaOf<V>(level, name, encoding)
    const sub = () => subOf(writer.db())
    const write = (op: Omit<BatchOp, 'sublevel'>, essential: boolean): Promise<void> =>
      writer.write(level => ({ ops: [{ ...op, sublevel: subOf(level) }], commit: () => undefined }), { essential })
    return {
      get: async (key) => await sub().get(key),
      put: (key, value) => write({ type: 'put', key, value }, false),
      // A delete frees space and forgets what is done with: it may use the reserve.
      del: (key) => write({ type: 'del', key }, true),
      iterator: (options = {}) => sub().iterator(options),
      keys: (options = {}) => sub().keys(options)
    }
  }

  return {
    get opened () {
      return report
    },
    async append (jobId, event) {
      const logged = await writer.write(() => stage(subs, jobId, event, lastSeq + 1, clock()), {
        essential: ESSENTIAL.has(event.type)
      })
      markerSoon()
      return logged
    },
    async appendBatch (events, puts = []) {
      const logged = await writer.write(
        level => {
          const time = clock()
          const pending = new Map<string, JobView>()
          const staged = events.map(({ jobId, event }, i) => stage(subs, jobId, event, lastSeq + 1 + i, time, pending))
          const ops = staged.flatMap(st => st.ops)
          for (const put of puts) {
            ops.push({
              type: put.value == null ? 'del' : 'put',
              sublevel: areaOf<string>(level, put.area, 'utf8'),
              key: put.key,
              ...(put.value != null ? { value: put.value } : {})
            })
          }
          return { ops, commit: () => staged.map(st => st.commit()) }
        },
        { essential: events.every(e => ESSENTIAL.has(e.event.type)) }
      )
      markerSoon()
      return logged
    },
    async remove (jobId, mayRemove) {
      // The job's index is read before the write, which cannot wait on a read: an event logged for
      // the job in between would leave its records behind (found as damage at the next open), so
      // the write checks that the job is as read, and the index is read again if not.
      for (let tries = 1; ; tries++) {
        const read = views.get(jobId)?.job
        if (read == null) throw new FfmeshError(ErrorCodes.JOB_NOT_FOUND, `no job ${jobId} in the job log`)
        const entries = await indexOf(jobId)
        try {
          await writer.write(
            () => {
              const view = views.get(jobId)
              if (view == null) throw new FfmeshError(ErrorCodes.JOB_NOT_FOUND, `no job ${jobId} in the job log`)
              mayRemove?.(view)
              if (view.job !== read) throw new StaleRead()
              const seq = lastSeq + 1
              const commit = (): void => {
                lastSeq = seq
                views.delete(jobId)
                indexes.drop(jobId)
              }
              return { ops: removalOps(jobId, view, entries, seq, clock()), commit }
            },
            { essential: true }
          )
          break
        } catch (err) {
          if (!(err instanceof StaleRead)) throw err
          if (tries >= MAX_REMOVE_READS) {
            throw new FfmeshError(ErrorCodes.JOB_ACTIVE, `job ${jobId} keeps changing; remove it when it is quiet`)
          }
        }
      }
      markerSoon()
    },
    async compact (jobIds, due) {
      const reads = new Map<string, Array<[string, number]>>()
      for (const id of jobIds) {
        const view = views.get(id)
        if (view != null && due(view)) reads.set(id, await indexOf(id))
      }
      if (reads.size === 0) return []
      // An event logged for a job between the read of its index and the write is kept: the job's
      // numbering allows events before `eventsFrom` to be missing, not that they are.
      const compacted = await writer.write(
        () => {
          const time = clock()
          const staged: Array<Staged<LoggedEvent>> = []
          const ops: BatchOp[] = []
          const dropped: number[] = []
          for (const [id, entries] of reads) {
            const view = views.get(id)
            // Removed, compacted already, or no longer due since its index was read: left as it is.
            if (view == null || view.job.eventsFrom != null || !due(view)) continue
            const eventsFrom = (view.job.eventCount ?? 0) + 1
            const event = { type: 'job:compacted' as const, summary: summarize(view), eventsFrom }
            const st = stage(subs, id, event, lastSeq + 1 + staged.length, time)
            staged.push(st)
            ops.push(...st.ops)
            for (const [key, seq] of entries) {
              ops.push({ type: 'del', sublevel: subs.byJob, key })
              if (seq > 0) {
                ops.push({ type: 'del', sublevel: subs.log, key: seqKey(seq) })
                dropped.push(seq)
              }
            }
          }
          const gaps = gapRuns.add(subs.gaps, dropped.sort((a, b) => a - b), time)
          for (const op of gaps.ops) ops.push(op)
          return {
            ops,
            commit: () => {
              gaps.commit()
              return staged.map(st => st.commit().jobId)
            }
          }
        },
        // Not essential: deleting records writes more first (LevelDB's tombstones) and frees
        // nothing until its own compactions; the reserve is for records of work done.
        { essential: false }
      )
      markerSoon()
      return compacted
    },
    job: id => views.get(id),
    jobs: () =>
      [...views.values()].sort((a, b) => a.job.createdAt - b.job.createdAt || a.job.id.localeCompare(b.job.id)),
    each: () => views.values(),
    *unfinished () {
      yield* indexes.inFlight()
      yield* indexes.queued()
    },
    inFlight: () => indexes.inFlight(),
    queued: () => indexes.queued(),
    hasOutput: file => indexes.hasOutput(file),
    list: query => pageViews(views.values(), query),
    async history (jobId) {
      const entries = (await indexOf(jobId)).filter(([, seq]) => seq > 0)
      const events = await subs.log.getMany(entries.map(([, seq]) => seqKey(seq)))
      // Events logged before event numbering carry their number only in the index.
      return events.flatMap((e, i) =>
        e == null ? [] : [{ ...e, jobSeq: e.jobSeq ?? parseIndexKey(...(entries[i] as [string, number])).jobSeq }]
      )
    },
    area: name => area<unknown>(name, 'json'),
    textArea: name => area<string>(name, 'utf8'),
    problem: () => writer.problem(),
    reserveMissing: () => reserve.missing(),
    async close () {
      clearTimeout(markerTimer)
      await writer.close()
      await saveMarker()
    }
  }
}
