/**
 * A unit's progress now, not as of its worker's last heartbeat. Heartbeats come every few seconds
 * (jobs.heartbeatSeconds, 5 by default), and the owner weighs the work left on each worker by
 * progress many times between them: which worker's slot frees first (the next whole file goes
 * there), how long the work ahead of a new job is (its cut). Taken as it was last said, of two
 * slots freeing close together the one whose heartbeat came last looked later, and a 15 s clip
 * went to the worker that freed 1.6 s after the other (bench/batch). So the last report is moved
 * on at the speed the unit has shown since its encode began.
 */

/** Where an attempt's encode was first reported: its speed is measured from here. */
export interface ProgressAnchor { attempt: number, progress: number, at: number }

/** What the owner last heard of a unit (owner-state.ts UnitRuntime). */
export interface HeardProgress {
  progress: number
  phase: 'fetching' | 'converting' | 'returning' | null
  heardAt: number
  anchor: ProgressAnchor | null
}

/**
 * The anchor after a heartbeat of `attempt` at `now`: the first report of its encode, kept while
 * the attempt lasts. A new attempt (the unit given again, on another worker or the same) starts over.
 */
export function nextAnchor (
  anchor: ProgressAnchor | null,
  report: { attempt: number, phase: HeardProgress['phase'], progress: number },
  now: number
): ProgressAnchor | null {
  if (anchor?.attempt === report.attempt) return anchor
  return report.phase === 'converting' ? { attempt: report.attempt, progress: report.progress, at: now } : null
}

/**
 * The last reported progress moved on by the time since, at the encode's mean speed since its
 * anchor, for at most `maxAheadMs`: a worker that has gone quiet is not taken as finishing (its
 * lease runs out instead). As reported until a second heartbeat of the encode gives a speed.
 */
export function estimatedProgress (heard: HeardProgress, now: number, maxAheadMs: number): number {
  const { anchor } = heard
  if (heard.phase !== 'converting' || anchor == null || heard.heardAt <= anchor.at) return heard.progress
  const perMs = (heard.progress - anchor.progress) / (heard.heardAt - anchor.at)
  if (!(perMs > 0)) return heard.progress
  const aheadMs = Math.min(Math.max(0, now - heard.heardAt), maxAheadMs)
  return Math.min(1, heard.progress + perMs * aheadMs)
}
