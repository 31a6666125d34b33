import type { StatsReport, StatsSpan } from '@ffmesh/protocol'
import type { JobView } from '../store/reduce.js'

const WEEK_MS = 7 * 24 * 3600 * 1000

function emptySpan (): StatsSpan {
  return { converted: 0, skipped: 0, skippedByReason: {}, failed: 0, bytesIn: 0, bytesOut: 0, bytesSaved: 0, byNode: [] }
}

function add (span: StatsSpan, view: JobView, nodes: Map<string, { units: number, ms: number }>): void {
  const { job } = view
  if (job.state === 'done') {
    span.converted++
    span.bytesIn += job.sourceSize
    span.bytesOut += job.outputSize ?? 0
    // A job from before sizes were logged has no outputSize: it counts as converted, not as saved.
    if (job.outputSize != null) span.bytesSaved += job.sourceSize - job.outputSize
    for (const u of view.units) {
      if (u.state !== 'verified' || u.worker == null) continue
      const n = nodes.get(u.worker) ?? { units: 0, ms: 0 }
      n.units++
      n.ms += u.busyMs ?? 0
      nodes.set(u.worker, n)
    }
  } else if (job.state === 'skipped') {
    span.skipped++
    const code = job.reason?.code ?? 'UNKNOWN'
    span.skippedByReason[code] = (span.skippedByReason[code] ?? 0) + 1
  } else if (job.state === 'failed') {
    span.failed++
  }
}

function byNode (nodes: Map<string, { units: number, ms: number }>, names: (id: string) => string | null): StatsSpan['byNode'] {
  return [...nodes.entries()].map(([id, n]) => ({ id, name: names(id), units: n.units, seconds: Math.round(n.ms / 100) / 10 }))
    .sort((a, b) => b.seconds - a.seconds)
}

/**
 * `ffmesh stats`: what this node's jobs converted, skipped and failed, the bytes in and out, and
 * per node the units it converted and their time (lease to verification, transfer included), in
 * total and for the last 7 days (by when each job ended). One pass over the in-memory views.
 */
export function computeStats (views: Iterable<JobView>, now: number, names: (id: string) => string | null): StatsReport {
  const all = emptySpan()
  const week = emptySpan()
  const allNodes = new Map<string, { units: number, ms: number }>()
  const weekNodes = new Map<string, { units: number, ms: number }>()
  for (const view of views) {
    add(all, view, allNodes)
    if (now - view.job.updatedAt <= WEEK_MS) add(week, view, weekNodes)
  }
  all.byNode = byNode(allNodes, names)
  week.byNode = byNode(weekNodes, names)
  return { ...all, last7Days: week }
}
