import path from 'node:path'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import type { Logger } from '../logger.js'
import { writeError, type LogLevel } from './log-db.js'
import { LOG_FLOOR_BYTES, type LogReserve } from './log-reserve.js'

/** After a failed write the log is reopened; while the disk stays full, a reopen is tried this often. */
export const REOPEN_RETRY_MS = 1_000

/**
 * A write that took longer than this from its call, waiting behind the writes before it and syncing,
 * is logged (debug): every grant, result and step of every job goes through this one queue, so a
 * slow disk shows here first.
 */
export const SLOW_WRITE_MS = 500

/**
 * A write whose own time (the free-space check and the sync) reaches this is a warning, said as
 * it happens and again when the write ends: grants wait on the log, so a disk this slow leaves
 * the whole mesh idle with nothing else to say why. At most once per STALL_WARN_EVERY_MS.
 */
export const STALLED_WRITE_MS = 5_000
export const STALL_WARN_EVERY_MS = 60_000

/** One LevelDB batch operation (a put or del, in a sublevel). */
export interface BatchOp { type: 'put' | 'del', sublevel: unknown, key: string, value?: unknown }

/** A write: the operations to make atomic, and what changes in memory once they are on disk. */
export interface Staged<T> { ops: BatchOp[], commit: () => T }

export interface LogWriter {
  /**
   * Builds a batch from the state at its turn, writes it synced, then commits it to memory. Writes
   * run one at a time. `essential`: it records work already done or frees space, so it may use the
   * log's reserve; others are refused with DISK_FULL once free space is at the floor.
   */
  write<T>(build: (db: LogLevel) => Staged<T>, options: { essential: boolean }): Promise<T>
  /** The open database, for reads; throws the reason while the log is being reopened. */
  db(): LogLevel
  /** Null while the log takes writes; otherwise why it does not. */
  problem(): FfmeshError | null
  close(): Promise<void>
}

export interface LogWriterInit {
  dbPath: string
  db: LogLevel
  reserve: LogReserve
  /** Opens the log again and reloads everything kept in memory from it. */
  reopen: () => Promise<LogLevel>
  logger: Logger
  /** Free bytes on the log's filesystem (statfs). */
  freeBytes: (dir: string) => Promise<number>
  /** A monotonic clock in ms that times the writes (performance.now unless a test sets it). */
  now?: () => number
}

/**
 * The one way into the job log's LevelDB. LevelDB goes on appending to its write-ahead log after a
 * write failed midway (only a failed sync stops it): the torn record then hides every later one in
 * its 32 KiB block when the log is next opened, acknowledged or not. So after any failed write
 * the open database is never written again: it is closed and reopened (recovery then drops only
 * the unacknowledged torn tail) and memory is reloaded from disk, and the step that asked gets
 * DISK_FULL or STORE_WRITE_FAILED. A reserve file gives LevelDB room for essential writes and for
 * that reopen, which writes the recovered records to a table.
 */
export function createLogWriter (init: LogWriterInit): LogWriter {
  const { logger, reserve } = init
  const { freeBytes } = init
  const now = init.now ?? (() => performance.now())
  let stallSaidAt = Number.NEGATIVE_INFINITY
  const dir = path.dirname(init.dbPath)
  let db: LogLevel | null = init.db
  let problem: FfmeshError | null = null
  let closed = false
  let retry: NodeJS.Timeout | undefined
  let tail: Promise<unknown> = Promise.resolve()

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = tail.then(fn, fn)
    tail = p.catch(() => {})
    return p
  }

  /** Closes the failed handle and opens the log again; on failure, tries again later. */
  async function recover (): Promise<void> {
    if (closed) return
    await reserve.release()
    if (db != null) {
      await db.close().catch(err => logger.warn({ err }, 'closing the job log after a failed write failed'))
      db = null
    }
    try {
      db = await init.reopen()
      logger.warn({ reason: problem?.message }, 'job log reopened after a failed write; nothing acknowledged was lost')
      problem = null
    } catch (err) {
      logger.error({ err }, `job log could not be reopened yet; trying again every ${REOPEN_RETRY_MS / 1000} s`)
      clearTimeout(retry)
      retry = setTimeout(() => { serial(recover).catch(() => {}) }, REOPEN_RETRY_MS)
      retry.unref()
    }
  }

  /**
   * One write at its turn in the queue; from here on the time is its own (the free-space check, the
   * sync, taking it into memory). A write still going after STALLED_WRITE_MS is a warning then,
   * not only once it ends: a disk that never answers would otherwise say nothing at all.
   */
  async function write<T> (
    build: (db: LogLevel) => Staged<T>,
    options: { essential: boolean },
    queuedAt: number
  ): Promise<T> {
    const started = now()
    let stalled = false
    const watch = setTimeout(() => {
      const at = now()
      if (at - stallSaidAt < STALL_WARN_EVERY_MS) return
      stallSaidAt = at
      stalled = true
      logger.warn(
        { dir },
        `a job log write has waited ${STALLED_WRITE_MS / 1000} s on its disk; grants, results and job steps wait on it`
      )
    }, STALLED_WRITE_MS)
    watch.unref()
    try {
      const { result, ops } = await writeNow(build, options)
      const done = now()
      const timing = { ms: Math.round(done - started), waitedMs: Math.round(started - queuedAt), ops }
      if (stalled) {
        logger.warn({ ...timing, dir }, `the job log's disk took ${(timing.ms / 1000).toFixed(1)} s to take one write`)
      } else if (done - queuedAt >= SLOW_WRITE_MS) {
        logger.debug(timing, 'slow job log write')
      }
      return result
    } finally {
      clearTimeout(watch)
    }
  }

  async function writeNow<T> (
    build: (db: LogLevel) => Staged<T>,
    options: { essential: boolean }
  ): Promise<{ result: T, ops: number }> {
    if (closed) throw new FfmeshError(ErrorCodes.STORE_WRITE_FAILED, 'the job log is closed (the node is stopping)')
    if (db == null || problem != null) {
      throw problem ?? new FfmeshError(ErrorCodes.STORE_WRITE_FAILED, 'the job log is not open')
    }
    const free = await freeBytes(dir).catch(() => Number.POSITIVE_INFINITY)
    if (free < LOG_FLOOR_BYTES) {
      if (!options.essential) {
        throw new FfmeshError(
          ErrorCodes.DISK_FULL,
          `the disk holding the job log ${init.dbPath} has ${free} bytes free; the log keeps its last ${LOG_FLOOR_BYTES} for records of work already done. Free space there; the node goes on by itself`
        )
      }
      if (reserve.missing() === 0) {
        logger.warn({ free }, 'disk nearly full: the job log uses its reserve')
        await reserve.release()
      }
    }
    const staged = build(db)
    try {
      await db.batch(staged.ops as never, { sync: true } as never)
    } catch (err) {
      problem = writeError(err, init.dbPath)
      logger.error({ err }, 'a job log write failed: reopening the log before anything else is written')
      await recover()
      throw problem ?? writeError(err, init.dbPath)
    }
    const result = staged.commit()
    if (reserve.missing() > 0) await reserve.ensure(await freeBytes(dir).catch(() => 0))
    return { result, ops: staged.ops.length }
  }

  return {
    write: (build, options) => {
      const queuedAt = now()
      return serial(() => write(build, options, queuedAt))
    },
    db () {
      if (db == null) throw problem ?? new FfmeshError(ErrorCodes.STORE_WRITE_FAILED, 'the job log is not open')
      return db
    },
    problem: () => problem,
    async close () {
      await serial(async () => {
        closed = true
        clearTimeout(retry)
        await db?.close()
        db = null
      })
    }
  }
}
