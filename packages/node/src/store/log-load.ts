import { unitKey } from '@ffmesh/protocol'
import { indexKey, parseIndexKey, readError, type Sublevels } from './log-db.js'
import type { JobIndexSummary, LogScan } from './log-check.js'
import type { JobView } from './reduce.js'
import type { LoggedEvent, UnitRecord } from './records.js'

/** Layout version of the log: 2 added the per-job index and event numbers. */
export const LOG_VERSION = 2
/** Operations per batch while an older log is given its index (a batch is held in memory). */
const MIGRATE_BATCH_OPS = 2_000

export interface LoadedLog {
  scan: LogScan
  views: Map<string, JobView>
}

/**
 * Reads what the log holds into memory: the views, and what the checks of log-check.ts need. Every
 * record is read and decoded (values too, not only keys: LevelDB checks no block checksum on reads
 * here, so a damaged table shows as a record that does not decode or is not what its key says),
 * so damage is found at open (STORE_CORRUPT) rather than mid-job. Memory stays per job: record
 * numbers are kept as sorted arrays, the index is summed up per job as it is read.
 */
export async function loadLog (subs: Sublevels, init: { dbPath: string, markerSeq: number }): Promise<LoadedLog> {
  try {
    const logSeqs: number[] = []
    for await (const [key, event] of subs.log.iterator()) {
      if (event?.seq !== Number(key) || typeof event.jobId !== 'string' || typeof event.event?.type !== 'string') {
        throw new Error(`log record ${key} is not a job event`)
      }
      logSeqs.push(event.seq)
    }
    const gapSeqs: number[] = []
    for await (const [key] of subs.gaps.iterator()) gapSeqs.push(Number(key))
    const lastSeq = Math.max(logSeqs.at(-1) ?? 0, gapSeqs.at(-1) ?? 0)
    const lostSeqs = missingNumbers(logSeqs, gapSeqs, Math.max(lastSeq, init.markerSeq))
    const lost = new Set(lostSeqs)
    const index = new Map<string, JobIndexSummary>()
    for await (const [key, seq] of subs.byJob.iterator()) {
      const { jobId, jobSeq } = parseIndexKey(key, seq)
      const summary = index.get(jobId) ?? { top: 0, missing: [], lostSeqs: [], lastSeq: 0 }
      for (let n = summary.top + 1; n < jobSeq; n++) summary.missing.push(n)
      summary.top = Math.max(summary.top, jobSeq)
      summary.lastSeq = Math.max(summary.lastSeq, seq)
      if (lost.has(seq)) summary.lostSeqs.push(seq)
      index.set(jobId, summary)
    }
    const views = new Map<string, JobView>()
    for await (const job of subs.jobs.values()) views.set(job.id, { job, units: [] })
    const strayUnits: UnitRecord[] = []
    for await (const unit of subs.units.values()) {
      const view = views.get(unit.jobId)
      if (view != null) view.units[unit.index] = unit
      else strayUnits.push(unit)
    }
    return { scan: { lastSeq, lostSeqs, index, views, strayUnits, markerSeq: init.markerSeq }, views }
  } catch (err) {
    throw readError(err, init.dbPath)
  }
}

/** The numbers 1..last in neither of two ascending lists (merged in one pass, no set of all numbers). */
function missingNumbers (a: number[], b: number[], last: number): number[] {
  const missing: number[] = []
  let i = 0
  let j = 0
  for (let n = 1; n <= last; n++) {
    while (i < a.length && (a[i] as number) < n) i++
    while (j < b.length && (b[j] as number) < n) j++
    if (a[i] !== n && b[j] !== n) missing.push(n)
  }
  return missing
}

/**
 * Gives a log written before LOG_VERSION 2 its per-job index and event counts, replaying the order
 * of its events. Safe to run again if interrupted: it writes the same keys, and the version last.
 */
export async function migrateLog (subs: Sublevels, batch: (ops: unknown[]) => Promise<void>): Promise<void> {
  const counts = new Map<string, { n: number, last: number }>()
  const known = new Set<string>()
  for await (const id of subs.jobs.keys()) known.add(id)
  let ops: unknown[] = []
  for await (const e of subs.log.values() as AsyncIterable<LoggedEvent>) {
    if (!known.has(e.jobId)) continue
    const c = counts.get(e.jobId) ?? { n: 0, last: 0 }
    c.n++
    c.last = e.seq
    counts.set(e.jobId, c)
    ops.push({ type: 'put', sublevel: subs.byJob, key: indexKey(e.jobId, c.n), value: e.seq })
    if (ops.length >= MIGRATE_BATCH_OPS) {
      await batch(ops)
      ops = []
    }
  }
  for await (const job of subs.jobs.values()) {
    const c = counts.get(job.id) ?? { n: 0, last: 0 }
    ops.push({ type: 'put', sublevel: subs.jobs, key: job.id, value: { ...job, eventCount: c.n, lastSeq: c.last } })
  }
  await batch(ops)
}

/** The keys of one job's unit records that exist, from its view (holes skipped). */
export function unitKeysOf (view: JobView): string[] {
  return view.units.filter(u => u != null).map(u => unitKey(u.jobId, u.index))
}
