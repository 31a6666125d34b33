import { TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import type { JobView } from './reduce.js'
import type { JobRecord, UnitRecord } from './records.js'

/**
 * One job's entries in the per-job index (`jobId!jobSeq` → record number), summed up as they are
 * read in key order, so the check needs memory per job, not per event.
 */
export interface JobIndexSummary {
  /** The highest event number that has an entry. */
  top: number
  /** Event numbers below `top` without an entry (those a compacted job let go not counted). */
  missing: number[]
  /** Record numbers its entries point to that the log does not hold (the events lost, the index kept). */
  lostSeqs: number[]
  /** The highest record number among its entries. */
  lastSeq: number
}

/** What opening the log read, for the checks below. */
export interface LogScan {
  /** The highest record number in the log or among its known gaps (removed or reported lost). */
  lastSeq: number
  /** Record numbers from 1 to the last (or to the marker's) that are neither in the log nor known gaps. */
  lostSeqs: number[]
  index: ReadonlyMap<string, JobIndexSummary>
  views: ReadonlyMap<string, JobView>
  /** Unit records whose job record is missing. */
  strayUnits: UnitRecord[]
  /** The last record the data dir's marker says the log holds (0 for none). */
  markerSeq: number
}

export interface LogDamage {
  /** Record numbers missing from the log that nothing accounts for. */
  lostSeqs: number[]
  /** Which job a lost record belonged to, where its index entry survived it. */
  lostOwners: Map<number, string>
  /** The log ends before the marker's last known record: acknowledged records at its end are gone. */
  cutShort: boolean
  /** Jobs to hold until a person retries or removes them, with the reason status shows. */
  attention: Map<string, string>
  /** Events of known jobs that are missing, to write placeholders for once the loss is reported. */
  missingEvents: Array<{ jobId: string, jobSeq: number }>
  /** Jobs whose job record is gone while other records of them remain; they cannot be shown. */
  lostJobs: string[]
  /** Jobs whose record counts fewer events than the index holds (the record is older than its events). */
  eventCounts: Map<string, number>
}

/**
 * The number of a job's first event the log is to hold: past 1 for a compacted job, whose earlier
 * events were let go with its units (anything but a whole number counts every event).
 */
export function eventsFromOf (job: JobRecord): number {
  const from = job.eventsFrom
  return from != null && Number.isSafeInteger(from) && from >= 1 ? from : 1
}

export function isIntact (d: LogDamage): boolean {
  return (
    d.lostSeqs.length === 0 &&
    !d.cutShort &&
    d.attention.size === 0 &&
    d.missingEvents.length === 0 &&
    d.lostJobs.length === 0
  )
}

/**
 * Checks a job log as opened: every record number from 1 to the last is present or accounted for,
 * every job's events are numbered without a gap, every unit of a job's plan has its record, and a
 * job that says it is done or assembling has every unit verified. LevelDB drops records silently
 * when it recovers a damaged write-ahead log; these checks are how the node notices.
 */
export function checkLog (scan: LogScan): LogDamage {
  const cutShort = scan.markerSeq > scan.lastSeq
  const attention = new Map<string, string>()
  const missingEvents: Array<{ jobId: string, jobSeq: number }> = []
  const eventCounts = new Map<string, number>()
  const lostOwners = new Map<number, string>()
  for (const [id, summary] of scan.index) for (const seq of summary.lostSeqs) lostOwners.set(seq, id)
  for (const [id, view] of scan.views) {
    const summary = scan.index.get(id) ?? { top: 0, missing: [], lostSeqs: [], lastSeq: 0 }
    const reasons = unitProblems(view)
    if (view.job.eventCount != null) {
      const top = Math.max(view.job.eventCount, summary.top)
      const missing = [...summary.missing]
      for (let n = Math.max(summary.top + 1, eventsFromOf(view.job)); n <= top; n++) missing.push(n)
      for (const jobSeq of missing) missingEvents.push({ jobId: id, jobSeq })
      const gone = missing.length + summary.lostSeqs.length
      if (gone > 0) reasons.push(`${gone} of its ${top} events are missing`)
      if (top > view.job.eventCount) {
        eventCounts.set(id, top)
        reasons.push('its record is older than its events')
      }
    }
    // A job already held for an earlier loss stays held; only a new loss is news.
    if (reasons.length > 0 && view.job.attention == null) {
      attention.set(id, `the job log lost records of this job: ${reasons.join('; ')}`)
    }
  }
  // A record lost at the end of a job's history leaves no gap in that job's own numbering: any job
  // that could still have changed after its last record is held.
  const latestLoss = scan.lostSeqs.filter(s => !lostOwners.has(s)).at(-1)
  if (latestLoss != null) {
    for (const [id, view] of scan.views) {
      if (
        attention.has(id) ||
        view.job.attention != null ||
        TERMINAL_JOB_STATES.includes(view.job.state) ||
        (view.job.lastSeq ?? 0) > latestLoss
      ) {
        continue
      }
      attention.set(
        id,
        `the job log lost records (up to record ${latestLoss}) written after this job's last known change; its state may be older than it was`
      )
    }
  }
  const lostJobs = [...new Set([...scan.strayUnits.map(u => u.jobId), ...scan.index.keys()])].filter(
    id => !scan.views.has(id)
  )
  return { lostSeqs: scan.lostSeqs, lostOwners, cutShort, attention, missingEvents, lostJobs, eventCounts }
}

/**
 * A plan with a unit record missing, or a job past its units that has unverified ones. A compacted
 * job let its units go on purpose, in the same batch as the event that says so.
 */
function unitProblems (view: JobView): string[] {
  const problems: string[] = []
  const missing: number[] = []
  const planned = view.job.compacted != null ? 0 : view.job.unitCount
  for (let i = 0; i < planned; i++) if (view.units[i] == null) missing.push(i)
  if (missing.length > 0) {
    problems.push(
      `the records of ${missing.length} of its ${view.job.unitCount} units are missing (${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''})`
    )
  }
  const past = view.job.state === 'done' || view.job.state === 'assembling'
  if (past && view.units.some(u => u != null && (u.state !== 'verified' || u.result == null))) {
    problems.push(`it is ${view.job.state} but not all its units are verified`)
  }
  return problems
}
