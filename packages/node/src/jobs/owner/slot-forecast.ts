/**
 * When each slot of the mesh runs out of work, forecast from the work ahead of a new job. Offers go
 * out in job order and a whole unit waits for a free slot, so the mesh takes its units as a list
 * scheduler does: each unit goes to the slot that frees first. Media seconds stand in for time: the
 * slots are taken as equally fast, which is what the owner can know before it has measured them.
 */

/** The work ahead of a job, in media seconds. */
export interface WorkAhead {
  /** What is left of each unit being converted (or granted and about to be), by its reported progress. */
  converting: number[]
  /** Units waiting for a slot, in the order they will be offered. */
  waiting: number[]
  /**
   * Jobs ahead still being planned, by their length: how they will be cut is not known yet, so
   * they are taken as spread over the slots that free first.
   */
  planning: number
}

/** Each slot's load when the work ahead is placed: the media seconds until it is free. */
export function slotLoads (slots: number, ahead: WorkAhead): number[] {
  const loads = new Array<number>(Math.max(1, slots)).fill(0)
  const take = (sec: number): void => {
    let k = 0
    for (let i = 1; i < loads.length; i++) if ((loads[i] as number) < (loads[k] as number)) k = i
    loads[k] = (loads[k] as number) + Math.max(0, sec)
  }
  // Longest first: a slot holds the unit it is converting, and the longest one ends last.
  for (const sec of [...ahead.converting].sort((a, b) => b - a)) take(sec)
  for (const sec of ahead.waiting) take(sec)
  spread(loads, ahead.planning)
  return loads
}

/** Fills the emptiest slots with `sec` like water: the lowest rise together until it runs out. */
function spread (loads: number[], sec: number): void {
  let left = Math.max(0, sec)
  while (left > 1e-9) {
    const low = Math.min(...loads)
    const lowest = loads.flatMap((load, i) => (load === low ? [i] : []))
    const next = Math.min(...loads.filter(load => load > low))
    const rise = Math.min(next - low, left / lowest.length)
    for (const i of lowest) loads[i] = low + rise
    left -= rise * lowest.length
  }
}

/**
 * Slot-seconds the other slots would stand idle while one converts a file of `durationSec` whole,
 * after the work ahead, less what the work behind it (`afterSec`, which can be cut to fit) fills.
 */
export function idleIfWhole (loads: number[], durationSec: number, afterSec: number): number {
  const first = Math.min(...loads)
  const end = first + durationSec
  let idle = -durationSec // the slot that takes the file is busy until `end`
  for (const load of loads) idle += Math.max(0, end - load)
  return Math.max(0, idle - afterSec)
}
