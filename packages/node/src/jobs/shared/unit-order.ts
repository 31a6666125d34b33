/** What a unit's place in the offer order is read from (a UnitSpec has these). */
export interface OrderedUnit { jobId: string, index: number, durationSec: number }

/**
 * Longest first, to the millisecond, then by index. Durations are differences of float timestamps,
 * so equal segments differ in their last bits; compared unrounded, that noise put them in a random
 * order (one sent behind the shorter pieces of the tail).
 */
export function longestFirst (a: OrderedUnit, b: OrderedUnit): number {
  return Math.round(b.durationSec * 1000) - Math.round(a.durationSec * 1000) || a.index - b.index
}

/**
 * The order an owner offers in: the earliest job first (job ids are ULIDs, so they sort by submit
 * time), then its longest unit first. The owner's forecast of when each slot frees
 * (slot-forecast.ts) assumes its units are taken in this order; a worker choosing among offers it
 * kept while full keeps to it too.
 */
export function offerSequence (a: OrderedUnit, b: OrderedUnit): number {
  return earlierJobFirst(a.jobId, b.jobId) || longestFirst(a, b)
}

/** Two job ids, the earlier submitted first (job ids are ULIDs). */
export function earlierJobFirst (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
