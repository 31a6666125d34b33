import type { JobStatus } from '@ffmesh/protocol'

/**
 * The layout of a job's unit timeline: a row per node, each try of a unit a bar from its lease to
 * its end (or to now while it runs). Positions are fractions of the time span, so the drawing
 * scales to any width. Pure: tested without a browser.
 */
export interface TimelineBar {
  unit: number
  kind: string
  attempt: number
  /** 0..1 from the start of the span. */
  x: number
  width: number
  /** Where conversion started inside the bar (0..1 of the span), null if it never did. */
  convertX: number | null
  outcome: 'verified' | 'released' | 'running'
  startedAt: number
  endedAt: number
}

export interface TimelineRow { worker: string, bars: TimelineBar[] }

export interface Timeline { start: number, end: number, rows: TimelineRow[] }

/** A bar narrower than this would not show; it is drawn this wide (0.4 % of the width). */
const MIN_BAR = 0.004

export function layoutTimeline (job: JobStatus, now: number): Timeline | null {
  const tries = job.units.flatMap(u => (u.tries ?? []).map(t => ({ unit: u, t })))
  if (tries.length === 0) return null
  const start = Math.min(job.createdAt, ...tries.map(({ t }) => t.leasedAt))
  const running = job.state === 'running' || job.state === 'assembling' || job.state === 'queued'
  const end = Math.max(
    start + 1,
    ...tries.map(({ t }) => t.endedAt ?? (running ? now : t.leasedAt)),
    running ? now : job.updatedAt
  )
  const span = end - start
  const rows = new Map<string, TimelineBar[]>()
  for (const { unit, t } of tries) {
    const until = t.endedAt ?? (running ? now : end)
    const bar: TimelineBar = {
      unit: unit.index,
      kind: unit.kind,
      attempt: t.attempt,
      x: (t.leasedAt - start) / span,
      width: Math.max(MIN_BAR, (until - t.leasedAt) / span),
      convertX: t.convertingAt != null ? (t.convertingAt - start) / span : null,
      outcome: t.outcome ?? 'running',
      startedAt: t.leasedAt,
      endedAt: until
    }
    rows.set(t.worker, [...(rows.get(t.worker) ?? []), bar])
  }
  return {
    start,
    end,
    rows: [...rows.entries()].map(([worker, bars]) => ({ worker, bars: bars.sort((a, b) => a.x - b.x) }))
  }
}
