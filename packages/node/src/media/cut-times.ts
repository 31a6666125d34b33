/**
 * The shortest piece the shrinking tail cuts (see cutTimes). Halving a slot's last piece trims the
 * others' wait at the end by a quarter of its encode, about 0.15 CPU s per media second at 720p,
 * and adds a unit a slot, 0.3 to 0.75 CPU s each beside its encode (a process start, a fresh
 * encoder, a transfer, a check): below about 4 s a smaller piece costs more than it saves.
 */
export const MIN_TAIL_PIECE_SEC = 4

/**
 * Where to cut a video of `durationSec` into pieces of at most `step` seconds, as offsets from its
 * start, for a mesh of `slots` slots. A job ends when its slowest slot finishes its last unit, so
 * the pieces shrink toward the end: each round of `slots` pieces shares out half of what is left
 * (guided self-scheduling by factoring), no longer than `step` and no shorter than
 * MIN_TAIL_PIECE_SEC (or half a step, when steps are short); the last round splits the rest into
 * equal pieces, one a slot, or fewer when the rest is short. Units go longest first, so a slot
 * that finishes early takes a shorter piece, and the slots end within about a short piece of one
 * another, with few units: one long segment costs less than many short ones. `slots` 0 cuts every
 * segment at `step` (one slot: nothing waits at the end).
 *
 * These are hints: the segmenter cuts at the first keyframe at or after each time.
 */
export function cutTimes (durationSec: number, step: number, slots: number): number[] {
  if (slots <= 0) return evenCuts(durationSec, step)
  const floor = Math.min(MIN_TAIL_PIECE_SEC, step / 2)
  const cuts: number[] = []
  let at = 0
  for (;;) {
    const left = durationSec - at
    const piece = Math.min(step, Math.max(floor, left / (2 * slots)))
    if (left - slots * piece < slots * floor) {
      // Too little would be left for another round: share out the rest evenly, so that no slot
      // waits at the end for a piece longer than its own.
      const last = Math.min(slots, Math.floor(left / floor))
      for (let k = 1; k < last; k++) cuts.push(at + k * left / last)
      return cuts
    }
    for (let k = 0; k < slots; k++) {
      at += piece
      cuts.push(at)
    }
  }
}

/** Every `step` seconds; no boundary closer than half a step to the end: the last segment is 0.5 to 1.5 steps. */
function evenCuts (durationSec: number, step: number): number[] {
  const cuts: number[] = []
  for (let t = step; t < durationSec - step / 2; t += step) cuts.push(t)
  return cuts
}
