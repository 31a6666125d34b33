import { STATS_DAYS, type StatsDay, type StatsReport, type StatsSpan } from '@ffmesh/protocol'
import type { JobView } from '../store/reduce.js'
import { workerTimes } from '../store/job-summary.js'

const WEEK_MS = 7 * 24 * 3600 * 1000

/** `YYYY-MM-DD` of a time in the node's time zone: a person's day, not UTC's. */
export function localDay (time: number): string {
  const d = new Date(time)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

/** The last STATS_DAYS calendar days up to `now`'s, oldest first, each empty. */
function emptyDays (now: number): Map<string, StatsDay> {
  const days = new Map<string, StatsDay>()
  const d = new Date(now)
  // Stepping by calendar date (not by 24 h) keeps one entry per day across daylight-saving changes.
  d.setDate(d.getDate() - (STATS_DAYS - 1))
  for (let i = 0; i < STATS_DAYS; i++) {
    const day = localDay(d.getTime())
    days.set(day, { day, converted: 0, bytesSaved: 0 })
    d.setDate(d.getDate() + 1)
  }
  return days
}

function emptySpan (): StatsSpan {
  return {
    converted: 0,
    skipped: 0,
    skippedByReason: {},
    failed: 0,
    bytesIn: 0,
    bytesOut: 0,
    bytesSaved: 0,
    byNode: []
  }
}

function add (span: StatsSpan, view: JobView, nodes: Map<string, { units: number, ms: number }>): void {
  const { job } = view
  if (job.state === 'done') {
    span.converted++
    span.bytesIn += job.sourceSize
    span.bytesOut += job.outputSize ?? 0
    // A job from before sizes were logged has no outputSize: it counts as converted, not as saved.
    if (job.outputSize != null) span.bytesSaved += job.sourceSize - job.outputSize
    for (const w of workerTimes(view)) {
      const n = nodes.get(w.peer) ?? { units: 0, ms: 0 }
      n.units += w.units
      n.ms += w.ms
      nodes.set(w.peer, n)
    }
  } else if (job.state === 'skipped') {
    span.skipped++
    const code = job.reason?.code ?? 'UNKNOWN'
    span.skippedByReason[code] = (span.skippedByReason[code] ?? 0) + 1
  } else if (job.state === 'failed') {
    span.failed++
  }
}

function byNode (
  nodes: Map<string, { units: number; ms: number }>,
  names: (id: string) => string | null
): StatsSpan['byNode'] {
  return [...nodes.entries()]
    .map(([id, n]) => ({ id, name: names(id), units: n.units, seconds: Math.round(n.ms / 100) / 10 }))
    .sort((a, b) => b.seconds - a.seconds)
}

/**
 * `ffmesh stats`: what this node's jobs converted, skipped and failed, the bytes in and out, and
 * per node the units it converted and their time (lease to verification, transfer included), in
 * total and for the last 7 days (by when each job ended), and the jobs converted and bytes saved
 * per day over the last STATS_DAYS days. One pass over the in-memory views.
 */
export function computeStats (
  views: Iterable<JobView>,
  now: number,
  names: (id: string) => string | null
): StatsReport {
  const all = emptySpan()
  const week = emptySpan()
  const allNodes = new Map<string, { units: number; ms: number }>()
  const weekNodes = new Map<string, { units: number; ms: number }>()
  const days = emptyDays(now)
  for (const view of views) {
    add(all, view, allNodes)
    if (now - view.job.updatedAt <= WEEK_MS) add(week, view, weekNodes)
    const day = view.job.state === 'done' ? days.get(localDay(view.job.updatedAt)) : undefined
    if (day != null) {
      day.converted++
      if (view.job.outputSize != null) day.bytesSaved += view.job.sourceSize - view.job.outputSize
    }
  }
  all.byNode = byNode(allNodes, names)
  week.byNode = byNode(weekNodes, names)
  return { ...all, last7Days: week, byDay: [...days.values()] }
}
