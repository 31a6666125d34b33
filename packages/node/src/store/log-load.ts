import { unitKey } from '@ffmesh/protocol'
import { indexKey, parseIndexKey, readError, type GapRecord, type Sublevels } from './log-db.js'
import { eventsFromOf, type JobIndexSummary, type LogScan } from './log-check.js'
import type { JobView } from './reduce.js'
import type { LoggedEvent, UnitRecord } from './records.js'
import type { SeqRun } from './gap-runs.js'

/**
 * Layout version of the log: 2 added the per-job index and event numbers; 3, gap records that
 * stand for runs of numbers (`through`: gap-runs.ts), which an older node would read as one.
 */
export const LOG_VERSION = 3
/** The version that added the per-job index: older logs are given theirs (migrateLog). */
export const INDEXED_LOG_VERSION = 2
/** Operations per batch while an older log is given its index (a batch is held in memory). */
const MIGRATE_BATCH_OPS = 2_000

export interface LoadedLog {
  scan: LogScan
  views: Map<string, JobView>
  /** The runs of record numbers let go with compacted jobs' events (gap-runs.ts). */
  compactedRuns: SeqRun[]
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
    const gapRuns: SeqRun[] = []
    const compactedRuns: SeqRun[] = []
    let lastSeq = logSeqs.at(-1) ?? 0
    for await (const [key, gap] of subs.gaps.iterator()) {
      if (!isGapRecord(key, gap)) throw new Error(`gap record ${key} is not a known gap`)
      const run: SeqRun = [Number(key), gap.through ?? Number(key)]
      gapRuns.push(run)
      if (gap.why === 'compacted') compactedRuns.push(run)
      lastSeq = Math.max(lastSeq, run[1])
    }
    const lostSeqs = missingNumbers(logSeqs, gapRuns, Math.max(lastSeq, init.markerSeq))
    const lost = new Set(lostSeqs)
    const views = new Map<string, JobView>()
    for await (const job of subs.jobs.values()) views.set(job.id, { job, units: [] })
    const strayUnits: UnitRecord[] = []
    for await (const unit of subs.units.values()) {
      const view = views.get(unit.jobId)
      if (view != null) view.units[unit.index] = unit
      else strayUnits.push(unit)
    }
    const index = new Map<string, JobIndexSummary>()
    for await (const [key, seq] of subs.byJob.iterator()) {
      const { jobId, jobSeq } = parseIndexKey(key, seq)
      const summary = index.get(jobId) ?? { top: 0, missing: [], lostSeqs: [], lastSeq: 0 }
      const job = views.get(jobId)?.job
      const from = job != null ? eventsFromOf(job) : 1
      for (let n = Math.max(summary.top + 1, from); n < jobSeq; n++) summary.missing.push(n)
      summary.top = Math.max(summary.top, jobSeq)
      summary.lastSeq = Math.max(summary.lastSeq, seq)
      if (lost.has(seq)) summary.lostSeqs.push(seq)
      index.set(jobId, summary)
    }
    return { scan: { lastSeq, lostSeqs, index, views, strayUnits, markerSeq: init.markerSeq }, views, compactedRuns }
  } catch (err) {
    throw readError(err, init.dbPath)
  }
}

/**
 * A gap record as the node writes it (log-db.ts): a known reason, and a `through` that is a whole
 * number not before its own. Anything else is damage: a `through` that is not a number would stop
 * the count of the log's numbers and hide every loss.
 */
export function isGapRecord (key: string, gap: GapRecord | undefined): gap is GapRecord {
  const first = Number(key)
  return (
    Number.isSafeInteger(first) && first > 0 &&
    (gap?.why === 'removed' || gap?.why === 'lost' || gap?.why === 'compacted') &&
    (gap.through == null || (Number.isSafeInteger(gap.through) && gap.through >= first))
  )
}

/**
 * The numbers 1..last neither in an ascending list nor in any of the runs (ascending by their
 * first number), found in one pass without a set of all numbers.
 */
function missingNumbers (seqs: number[], runs: SeqRun[], last: number): number[] {
  const missing: number[] = []
  let i = 0
  let j = 0
  for (let n = 1; n <= last; n++) {
    while (j < runs.length && (runs[j] as SeqRun)[1] < n) j++
    const run = runs[j]
    if (run != null && run[0] <= n) {
      // Every number to the run's end is accounted for: on to the one after it.
      n = run[1]
      continue
    }
    while (i < seqs.length && (seqs[i] as number) < n) i++
    if (seqs[i] !== n) missing.push(n)
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
