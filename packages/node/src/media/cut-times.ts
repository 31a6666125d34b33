/** A tail piece shorter than this gains less than a unit's fixed cost (process start, probe, transfer). */
export const MIN_TAIL_PIECE_SEC = 1

/**
 * A tail segment at least this long is cut into a half and two quarters rather than two halves.
 * With halves a job still ended on one worker converting a half segment while the others sat
 * idle: a 3-minute file at 20 s segments left one of two nodes idle for 4.6 s of 45.7
 * (bench/scaling). But each quarter is one more unit, and a unit costs about 0.75 CPU s beside its
 * encode (a process start, a fresh encoder, a transfer, a check): on the 60 s file at 15 s
 * segments, two nodes, halves ended the job 0.56 s sooner on average over ten interleaved pairs
 * (faster in seven) and spent 1.3 CPU s less (bench/trace). Quarters pay from 5 s up.
 */
export const QUARTER_TAIL_FROM_SEC = 20

/**
 * Where to cut a video of `durationSec` into segments of `step` seconds, as offsets from its start.
 * The last `tailSegments` segments are cut smaller: in half, or into a half and two quarters when
 * long enough. A job ends when its slowest worker finishes its last unit, so short units at the end
 * (sent last, as units go longest first) leave the others idle for a fraction of a segment at most,
 * not a whole one. The mesh's slot count is a good `tailSegments`: every slot then ends on a short
 * unit. 0 cuts every segment at `step`.
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
    const length = end - start
    const tail = i > segments - tailSegments
    if (tail && length >= QUARTER_TAIL_FROM_SEC) cuts.push(start + length / 2, start + length * 3 / 4)
    else if (tail && length >= 2 * MIN_TAIL_PIECE_SEC) cuts.push(start + length / 2)
    if (i < segments) cuts.push(end)
  }
  return cuts
}
