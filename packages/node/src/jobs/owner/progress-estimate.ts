/**
 * A unit's progress now, not as of its worker's last heartbeat. Heartbeats come every few seconds
 * (jobs.heartbeatSeconds, 5 by default), and the owner weighs the work left on each worker by
 * progress many times between them: which worker's slot frees first (the next whole file goes
 * there), how long the work ahead of a new job is (its cut). Taken as it was last said, of two
 * slots freeing close together the one whose heartbeat came last looked later, and a 15 s clip
 * went to the worker that freed 1.6 s after the other (bench/batch). So the last report is moved
 * on at the speed the unit has shown since its encode began, and before it has shown one (its
 * first heartbeat's interval, most of a short clip's life) at the speed its worker's last encode
 * showed: taken as standing still there, a 20 s clip started 3.5 s before looked 20 s from its end,
 * and the next 15 s clip went to the other worker, which freed 1.2 s later (bench/batch).
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
 * lease runs out instead). Until a second report of the encode gives its own speed, it moves on
 * from the anchor at `startSpeed` (progress per ms at the worker's last speed, workerSpeed), or
 * stays as reported without one.
 */
export function estimatedProgress (heard: HeardProgress, now: number, maxAheadMs: number, startSpeed = 0): number {
  const { anchor } = heard
  if (heard.phase !== 'converting' || anchor == null) return heard.progress
  const aheadMs = Math.min(Math.max(0, now - heard.heardAt), maxAheadMs)
  const perMs = heard.heardAt > anchor.at ? shownPerMs(heard, anchor) : startSpeed
  return perMs > 0 ? Math.min(1, heard.progress + perMs * aheadMs) : heard.progress
}

/**
 * The media seconds a millisecond of a worker's encode converts, as this report shows of a unit
 * `durationSec` long: null before its encode has a speed (one report of it, or no progress since).
 * The report that the encode ended (returning, progress 1) measures all of it: a piece shorter
 * than a heartbeat is heard only as it begins and as it ends.
 */
export function workerSpeed (heard: HeardProgress, durationSec: number): number | null {
  const { anchor } = heard
  const encoded = heard.phase === 'converting' || heard.phase === 'returning'
  if (!encoded || anchor == null || heard.heardAt <= anchor.at) return null
  const perMs = shownPerMs(heard, anchor)
  return perMs > 0 && durationSec > 0 ? perMs * durationSec : null
}

/** Progress per ms since the anchor, by a later report. */
function shownPerMs (heard: HeardProgress, anchor: ProgressAnchor): number {
  return (heard.progress - anchor.progress) / (heard.heardAt - anchor.at)
}
