import { TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import type { JobView } from './reduce.js'
import type { UnitRecord } from './records.js'

/**
 * One entry of the per-job index: event number `jobSeq` of job `jobId` is log record `seq`.
 * `seq` 0 is a placeholder for an event known to be lost (written once the loss was reported).
 */
export interface IndexEntry { jobId: string, jobSeq: number, seq: number }

/** What opening the log read, for the checks below: keys and views, never the events themselves. */
export interface LogScan {
  /** Sequence numbers of the events in the log, ascending. */
  logSeqs: number[]
  /** Numbers with no event that are accounted for: removed with `ffmesh rm`, or lost and reported before. */
  knownGaps: ReadonlySet<number>
  index: IndexEntry[]
  views: ReadonlyMap<string, JobView>
  /** Unit records whose job record is missing. */
  strayUnits: UnitRecord[]
  /** The last record the data dir's marker says the log holds (0 for none). */
  markerSeq: number
}

export interface LogDamage {
  /** Record numbers missing from the log that nothing accounts for. */
  lostSeqs: number[]
  /** The log ends before the marker's last known record: acknowledged records at its end are gone. */
  cutShort: boolean
  /** Jobs to hold until a person retries or removes them, with the reason status shows. */
  attention: Map<string, string>
  /** Events of known jobs that are missing, as placeholders to write once the loss is reported. */
  missingEvents: IndexEntry[]
  /** Jobs whose job record is gone while other records of them remain; they cannot be shown. */
  lostJobs: string[]
  /** Jobs whose record counts fewer events than the index holds (the record is older than its events). */
  eventCounts: Map<string, number>
}

export function isIntact (d: LogDamage): boolean {
  return d.lostSeqs.length === 0 && !d.cutShort && d.attention.size === 0 && d.missingEvents.length === 0 && d.lostJobs.length === 0
}

/**
 * Checks a job log as opened: every record number from 1 to the last is present or accounted for,
 * every job's events are numbered without a gap, every unit of a job's plan has its record, and a
 * job that says it is done or assembling has every unit verified. LevelDB drops records silently
 * when it recovers a damaged write-ahead log; these checks are how the node notices.
 */
export function checkLog (scan: LogScan): LogDamage {
  const lastLog = scan.logSeqs.at(-1) ?? 0
  const lastGap = largest(scan.knownGaps)
  const cutShort = scan.markerSeq > Math.max(lastLog, lastGap)
  const present = new Set(scan.logSeqs)
  const lostSeqs: number[] = []
  for (let seq = 1; seq <= Math.max(lastLog, lastGap, scan.markerSeq); seq++) {
    if (!present.has(seq) && !scan.knownGaps.has(seq)) lostSeqs.push(seq)
  }
  const lost = new Set(lostSeqs)
  const byJob = new Map<string, IndexEntry[]>()
  for (const e of scan.index) byJob.set(e.jobId, [...byJob.get(e.jobId) ?? [], e])

  const attention = new Map<string, string>()
  const missingEvents: IndexEntry[] = []
  const eventCounts = new Map<string, number>()
  const attributed = new Set<number>()
  for (const [id, view] of scan.views) {
    const entries = byJob.get(id) ?? []
    const reasons = unitProblems(view)
    if (view.job.eventCount != null) {
      const numbers = new Set(entries.map(e => e.jobSeq))
      const top = Math.max(view.job.eventCount, largest(numbers))
      const missing: number[] = []
      for (let n = 1; n <= top; n++) if (!numbers.has(n)) missing.push(n)
      for (const jobSeq of missing) missingEvents.push({ jobId: id, jobSeq, seq: 0 })
      const gone = entries.filter(e => e.seq > 0 && lost.has(e.seq))
      for (const e of gone) attributed.add(e.seq)
      if (missing.length + gone.length > 0) reasons.push(`${missing.length + gone.length} of its ${top} events are missing`)
      if (top > view.job.eventCount) {
        eventCounts.set(id, top)
        reasons.push('its record is older than its events')
      }
    }
    // A job already held for an earlier loss stays held; only a new loss is news.
    if (reasons.length > 0 && view.job.attention == null) attention.set(id, `the job log lost records of this job: ${reasons.join('; ')}`)
  }
  // A record lost at the end of a job's history leaves no gap in that job's own numbering: any job
  // that could still have changed after its last record is held.
  const unattributed = lostSeqs.filter(s => !attributed.has(s))
  const latestLoss = unattributed.at(-1)
  if (latestLoss != null) {
    for (const [id, view] of scan.views) {
      if (attention.has(id) || view.job.attention != null || TERMINAL_JOB_STATES.includes(view.job.state) || (view.job.lastSeq ?? 0) > latestLoss) continue
      attention.set(id, `the job log lost records (up to record ${latestLoss}) written after this job's last known change; its state may be older than it was`)
    }
  }
  const lostJobs = [...new Set([...scan.strayUnits.map(u => u.jobId), ...scan.index.map(e => e.jobId)])].filter(id => !scan.views.has(id))
  return { lostSeqs, cutShort, attention, missingEvents, lostJobs, eventCounts }
}

/** A plan with a unit record missing, or a job past its units that has unverified ones. */
function unitProblems (view: JobView): string[] {
  const problems: string[] = []
  const missing: number[] = []
  for (let i = 0; i < view.job.unitCount; i++) if (view.units[i] == null) missing.push(i)
  if (missing.length > 0) problems.push(`the records of ${missing.length} of its ${view.job.unitCount} units are missing (${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''})`)
  const past = view.job.state === 'done' || view.job.state === 'assembling'
  if (past && view.units.some(u => u != null && (u.state !== 'verified' || u.result == null))) problems.push(`it is ${view.job.state} but not all its units are verified`)
  return problems
}

/** The largest of many numbers (0 for none), without spreading them into one call's arguments. */
function largest (numbers: Iterable<number>): number {
  let top = 0
  for (const n of numbers) if (n > top) top = n
  return top
}
