/** A tail piece shorter than this gains less than a unit's fixed cost (process start, probe, transfer). */
export const MIN_TAIL_PIECE_SEC = 1

/**
 * Where to cut a video of `durationSec` into segments of `step` seconds, as offsets from its start.
 * The last `tailSegments` segments are cut in half: a job ends when its slowest worker finishes
 * its last unit, so short units at the end (sent last, as units go longest first) leave the
 * others idle for about half a segment at most, not a whole one. The mesh's slot count is a good
 * `tailSegments`: every slot then ends on a short unit. 0 cuts every segment at `step`.
 *
 * These are hints: the segmenter cuts at the first keyframe at or after each time.
 */
export function cutTimes (durationSec: number, step: number, tailSegments: number): number[] {
  const bounds = [0]
  // No boundary closer than half a step to the end: the last segment is between 0.5 and 1.5 steps.
  for (let t = step; t < durationSec - step / 2; t += step) bounds.push(t)
  bounds.push(durationSec)
  const segments = bounds.length - 1
  const cuts: number[] = []
  for (let i = 1; i <= segments; i++) {
    const start = bounds[i - 1] as number
    const end = bounds[i] as number
    if (i > segments - tailSegments && end - start >= 2 * MIN_TAIL_PIECE_SEC) cuts.push((start + end) / 2)
    if (i < segments) cuts.push(end)
  }
  return cuts
}
