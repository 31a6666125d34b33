import type { JobView } from '../../store/reduce.js'
import type { UnitRecord } from '../../store/records.js'
import type { ProgressOf } from './cut-policy.js'
import { heldUnits, takeRoom, type Readiness } from './worker-load.js'

/**
 * How long each worker stays busy with this owner's units, so a unit that can only be prefetched
 * goes where a slot frees first, the rule a list scheduler follows (longest unit first, to the
 * slot that frees first). Counting units alone would queue a long piece behind another long one
 * on a worker while the other worker has a short unit left, and that worker would then stand idle
 * at the end of the job. Media seconds stand in for time, as in the cut policy (slot-forecast.ts).
 */

/**
 * An audio unit's share of a video unit's cost per media second: AAC at 160k against x264 medium
 * at 720p is 2.6 against 32.5 CPU s on this project's 60 s sample, and a larger picture or a
 * slower encoder makes the share smaller.
 */
export const AUDIO_COST_SHARE = 0.1

/** What each worker has left of this owner's running units, media seconds by their progress now (ProgressOf). */
export function workLeft (views: JobView[], progressOf: ProgressOf): Map<string, number> {
  const left = new Map<string, number>()
  for (const u of heldUnits(views)) {
    left.set(u.worker, (left.get(u.worker) ?? 0) + unitLeftSec(u, progressOf(u.jobId, u.index)))
  }
  return left
}

/** What is left of a held unit, media seconds at a video's cost. */
export function unitLeftSec (u: Pick<UnitRecord, 'spec'>, progress = 0): number {
  const share = u.spec.kind === 'audio' ? AUDIO_COST_SHARE : 1
  return Math.max(0, u.spec.durationSec) * share * (1 - Math.min(1, Math.max(0, progress)))
}

/**
 * The media seconds until a worker has a slot free: 0 with one free now; undefined where the owner
 * cannot tell (none free, and none of its units there: other owners' work fills it).
 */
export function busySec (w: Readiness): number | undefined {
  if (w.slotsFree > 0) return 0
  return w.leftSec == null ? undefined : w.leftSec / Math.max(1, w.slotsTotal)
}

/**
 * Which of two workers takes a unit first: more free slots first; among workers without one, the
 * one whose slot frees first, one the owner cannot tell about last, and then the one holding fewer
 * units beyond its slots.
 */
export function readierFirst (a: Readiness, b: Readiness): number {
  const free = Math.max(0, b.slotsFree) - Math.max(0, a.slotsFree)
  if (free !== 0 || a.slotsFree > 0) return free
  const sooner = (busySec(a) ?? Number.POSITIVE_INFINITY) - (busySec(b) ?? Number.POSITIVE_INFINITY)
  // Two workers the owner cannot tell about give Infinity - Infinity: NaN.
  return Number.isNaN(sooner) || sooner === 0 ? b.slotsFree - a.slotsFree : sooner
}

/**
 * Counts a unit offered to a worker as taken by it, for the next offers of the same look at the
 * workers: the first invited is the likely winner.
 */
export function countOffered (w: Readiness, unit: Pick<UnitRecord, 'spec'>): void {
  w.slotsFree--
  w.leftSec = (w.leftSec ?? 0) + unitLeftSec(unit)
}

/**
 * Whether a unit is better held back than prefetched now: no worker it may go to has a free slot,
 * and the one whose slot frees first already holds all it may take (worker-load.ts takeRoom).
 * Granted to another worker, the unit would start later than if it waits for that one; the owner
 * offers it again at a later tick, and as soon as any slot frees it goes to that slot.
 */
export function holdForSoonerWorker<W extends Readiness & { id: string }> (
  loads: W[],
  excluded: (worker: string) => boolean
): boolean {
  const soonest = soonestBusyWorker(loads, excluded)
  return soonest != null && takeRoom(soonest) <= 0
}

/**
 * Counts a unit that waits for a free slot (waitsForFreeSlot) as taken by the worker whose slot
 * frees first, for the next offers of the same look: that slot is the unit's, as a list scheduler
 * gives the next free slot to the earliest unit. Without this, a later job's piece was prefetched
 * by that worker and took the slot first, piece after piece: a 120 s clip waited 110 s behind a
 * later 75 s one, then ended the batch alone (bench/batch).
 */
export function keepSlotFor<W extends Readiness & { id: string }> (
  loads: W[],
  excluded: (worker: string) => boolean,
  unit: Pick<UnitRecord, 'spec'>
): void {
  const soonest = soonestBusyWorker(loads, excluded)
  if (soonest != null) countOffered(soonest, unit)
}

/**
 * Wall seconds before a busy worker's slot frees that it may fetch a whole unit to convert next,
 * beyond the heartbeat (see wholePrefetchHorizonSec): the claim, the grant and the copy of one
 * file, a few hundred MB over a gigabit LAN. Offered only once that slot frees, a whole unit began
 * 0.6 to 1.3 s after it on the other node and 0.2 to 0.4 s after it on the owner's own (bench/batch).
 */
export const WHOLE_PREFETCH_LEAD_SEC = 3
/** Heartbeats slower than this count as this fast: a horizon of minutes would be no prefetch but a queue. */
const MAX_HEARTBEAT_AGE_SEC = 10

/**
 * How near its end, in media seconds of the owner's units, a worker's slot must be for that worker
 * to prefetch a whole unit (wholePrefetcher). Progress is estimated to now from the reports
 * (progress-estimate.ts), but a unit's first seconds have no speed yet (progress is then what the
 * last heartbeat said, up to a heartbeat old) and a speed is a mean that varies with the picture:
 * a horizon of a heartbeat plus the lead is first seen while at least the lead is left.
 * `secPerMediaSec`: wall seconds a slot spends per media second (unit-cost.ts).
 */
export function wholePrefetchHorizonSec (heartbeatSec: number, secPerMediaSec: number): number {
  const wallSec = Math.min(MAX_HEARTBEAT_AGE_SEC, heartbeatSec) + WHOLE_PREFETCH_LEAD_SEC
  return wallSec / Math.max(Number.EPSILON, secPerMediaSec)
}

/**
 * The worker that may fetch a whole unit now, before a slot is free (waitsForFreeSlot): the one whose
 * slot frees first, when that is within `horizonSec` media seconds and it has room for a prefetch.
 * Null when a slot is free (the unit goes there), when it frees later (the unit keeps that slot,
 * keepSlotFor), or when the owner cannot tell. Should another worker stand idle after all while the
 * unit waits there, the tail move (worker-load.ts unitToMove) takes it over.
 */
export function wholePrefetcher<W extends Readiness & { id: string }> (
  loads: W[],
  excluded: (worker: string) => boolean,
  horizonSec: number
): W | null {
  const soonest = soonestBusyWorker(loads, excluded)
  const sec = soonest == null ? undefined : busySec(soonest)
  if (soonest == null || sec == null || takeRoom(soonest) <= 0) return null
  return sec <= horizonSec ? soonest : null
}

/**
 * The worker a unit may go to whose slot frees first, when none has one free now; null when one
 * has, or the owner cannot tell about any (other owners' work fills them).
 */
function soonestBusyWorker<W extends Readiness & { id: string }> (
  loads: W[],
  excluded: (worker: string) => boolean
): W | null {
  const usable = loads.filter(w => w.slotsTotal > 0 && !excluded(w.id))
  if (usable.some(w => w.slotsFree > 0)) return null
  return usable.filter(w => busySec(w) != null).sort(readierFirst)[0] ?? null
}
