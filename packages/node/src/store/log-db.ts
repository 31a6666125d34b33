import fs from 'node:fs/promises'
import path from 'node:path'
import { Level } from 'level'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { LOG_WRITE_BUFFER_BYTES } from './log-reserve.js'
import type { JobRecord, LoggedEvent, UnitRecord } from './records.js'
import { recordEncoding } from './record-codec.js'

export type LogLevel = Level<string, unknown>

/**
 * Record numbers the log holds no more, known why: an event removed with `ffmesh rm`, lost and
 * reported, or let go with a compacted job's units (a run of numbers to `through`, jobs mixed).
 */
export interface GapRecord { why: 'removed' | 'lost' | 'compacted', jobId: string | null, at: number, through?: number }
/** What the log says about itself: its id (the data dir's marker names the same), its layout version. */
export interface MetaRecord { id: string, version: number, damagedAt?: number | null }

export const SEQ_WIDTH = 16
const JOB_SEQ_WIDTH = 10
export const seqKey = (seq: number): string => String(seq).padStart(SEQ_WIDTH, '0')
export const indexKey = (jobId: string, jobSeq: number): string =>
  `${jobId}!${String(jobSeq).padStart(JOB_SEQ_WIDTH, '0')}`
export function parseIndexKey (key: string, seq: number): { jobId: string, jobSeq: number, seq: number } {
  const at = key.lastIndexOf('!')
  return { jobId: key.slice(0, at), jobSeq: Number(key.slice(at + 1)), seq }
}

/** The sublevels of the job log. One batch across them is one atomic LevelDB write. */
export function sublevels (db: LogLevel) {
  return {
    log: db.sublevel<string, LoggedEvent>('log', { valueEncoding: recordEncoding as never }),
    jobs: db.sublevel<string, JobRecord>('jobs', { valueEncoding: recordEncoding as never }),
    units: db.sublevel<string, UnitRecord>('units', { valueEncoding: recordEncoding as never }),
    /** `jobId!jobSeq` → log record number: a job's history without reading the whole log. */
    byJob: db.sublevel<string, number>('by-job', { valueEncoding: recordEncoding as never }),
    gaps: db.sublevel<string, GapRecord>('gaps', { valueEncoding: recordEncoding as never }),
    meta: db.sublevel<string, MetaRecord>('meta', { valueEncoding: recordEncoding as never })
  }
}
export type Sublevels = ReturnType<typeof sublevels>

/** A LevelDB error's underlying cause: the code and message LevelDB gave. */
function causeOf (err: unknown): { code: string, message: string } {
  const e = err as { code?: string, message?: string, cause?: { code?: string, message?: string } }
  return { code: e.cause?.code ?? e.code ?? '', message: `${e.message ?? ''} ${e.cause?.message ?? ''}` }
}

export function isDiskFull (err: unknown): boolean {
  const { code, message } = causeOf(err)
  return code === 'ENOSPC' || code === 'EDQUOT' || /No space left on device|Disk quota exceeded/i.test(message)
}

const repairAdvice = (dbPath: string): string =>
  `stop nothing else; run \`ffmesh repair --data-dir ${path.dirname(dbPath)}\`, which copies the damaged files aside, saves what can still be read and says what was lost`

/** A failed write, as the step that asked for it reports it. */
export function writeError (err: unknown, dbPath: string): FfmeshError {
  if (isDiskFull(err)) {
    return new FfmeshError(
      ErrorCodes.DISK_FULL,
      `the disk holding the job log ${dbPath} is full; nothing was recorded. Free space there; the node goes on by itself`
    )
  }
  return new FfmeshError(
    ErrorCodes.STORE_WRITE_FAILED,
    `the job log ${dbPath} could not take a write (${causeOf(err).message.trim()}); nothing was recorded. Check the disk (dmesg); the node reopens the log and goes on`
  )
}

/** A failed read or open: damage LevelDB found, as the node reports it. */
export function readError (err: unknown, dbPath: string): FfmeshError {
  if (isDiskFull(err)) return writeError(err, dbPath)
  return new FfmeshError(
    ErrorCodes.STORE_CORRUPT,
    `the job log ${dbPath} is damaged: ${causeOf(err).message.trim()}; ${repairAdvice(dbPath)}`
  )
}

/** Opening writes too (LevelDB stores the records it recovers in a table; the marker is written). */
export function diskFullAtOpen (dbPath: string): FfmeshError {
  return new FfmeshError(
    ErrorCodes.DISK_FULL,
    `the job log ${dbPath} cannot be opened: its disk is full (opening writes the records it recovers). Free space there and start the node again`
  )
}

export function storeCorrupt (dbPath: string, what: string): FfmeshError {
  return new FfmeshError(ErrorCodes.STORE_CORRUPT, `the job log ${dbPath} ${what}; ${repairAdvice(dbPath)}`)
}

/**
 * Opens the log's LevelDB. `create` is false for a data dir that has held a log: then a missing
 * CURRENT file is an error, not an invitation to start an empty database.
 */
export async function openLevel (dbPath: string, options: { create: boolean }): Promise<LogLevel> {
  const db = new Level<string, unknown>(dbPath, {
    valueEncoding: 'json',
    createIfMissing: options.create,
    writeBufferSize: LOG_WRITE_BUFFER_BYTES
  })
  try {
    await db.open()
  } catch (err) {
    const { code, message } = causeOf(err)
    if (/lock/i.test(message) || code === 'LEVEL_LOCKED') {
      throw new FfmeshError(
        ErrorCodes.NODE_ALREADY_RUNNING,
        `another ffmesh node is using the job store at ${dbPath}; stop it first, or give this one its own --data-dir`
      )
    }
    if (/does not exist/.test(message)) {
      throw storeCorrupt(dbPath, 'is missing (no CURRENT file) although this data dir has held one')
    }
    if (isDiskFull(err)) throw diskFullAtOpen(dbPath)
    throw readError(err, dbPath)
  }
  return db
}

/** LevelDB files other than its lock and info log: what a data dir that held a log has in db/. */
export async function hasLevelFiles (dbPath: string): Promise<boolean> {
  const names = await fs.readdir(dbPath).catch(() => [] as string[])
  return names.some(n => /^(CURRENT|MANIFEST-\d+|\d+\.(log|ldb|sst))$/.test(n))
}

/**
 * What LevelDB's recovery dropped when it opened (or repaired) the log, from the info log it
 * rewrites each time (`db/LOG`; the previous one becomes `LOG.old`): "dropping N bytes;
 * Corruption: ..." from a write-ahead log, "Table #N: M entries Corruption: ..." or "dropped" from a
 * table. `lines` are those lines without LevelDB's time and thread prefix.
 */
export async function recoveryDrops (dbPath: string): Promise<{ count: number, bytes: number, lines: string[] }> {
  const text = await fs.readFile(path.join(dbPath, 'LOG'), 'utf8').catch(() => '')
  const lines = text.split('\n').filter(l => /dropping \d+ bytes|Corruption|dropped:|unparsable key/.test(l))
    .map(l => l.replace(/^\S+ \S+ /, '').trim())
  const bytes = lines.reduce((n, l) => n + Number(/dropping (\d+) bytes/.exec(l)?.[1] ?? 0), 0)
  return { count: lines.length, bytes, lines }
}
