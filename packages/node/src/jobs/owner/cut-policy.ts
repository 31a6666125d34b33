import { MAX_WHOLE_UNIT_BYTES } from '@ffmesh/protocol'
import { cutTimes } from '../../media/cut-times.js'
import type { JobRecord } from '../../store/records.js'
import type { JobComponents } from '../shared/deps.js'
import { isHeld, isPending } from '../shared/unit-lease.js'
import { idleIfWhole, slotLoads, type WorkAhead } from './slot-forecast.js'
import { fitUnitCost, unitSamples, type UnitCost } from './unit-cost.js'

/**
 * How the planner cuts a job, from the work and the mesh: a unit costs a fixed amount beside its
 * encode (a process start, a new encoder whose lookahead fills and drains, a transfer, a check,
 * and for a cut job the cut, the audio copy and the assembly), so a job is cut only as far as it
 * keeps slots busy that would otherwise wait. A batch is spread file by file (each file one whole
 * unit, which costs what a plain ffmpeg run costs); a file is cut when it is long beside the work
 * left for the mesh: alone on an idle mesh, at the end of a batch, or much longer than the rest.
 */

/**
 * Until this owner has verified tries to measure (unit-cost.ts): the fixed cost of a unit beside
 * its encode, 0.3 to 0.5 CPU s measured per unit on 720p H.264 (bench/trace, the A/B of 20 s
 * against 60 s segments on a 10-minute file), the upper end taken; and x264 at preset medium,
 * about 0.55 CPU s per second of 720p.
 */
export const DEFAULT_UNIT_COST: UnitCost = { fixedSec: 0.5, secPerMediaSec: 0.55 }
/** Bounds on the shortest segment a measured cost gives: a fit of noisy tries says no more than this. */
const MIN_SEGMENT_FLOOR_SEC = 3
const MIN_SEGMENT_CEILING_SEC = 60
/**
 * The share of a segment's CPU its fixed cost may take: 10 %, so no segment is shorter than about
 * 9 s, and a file shorter than two of those goes whole to one worker.
 */
const UNIT_COST_SHARE = 0.1
/**
 * At the end of a batch a file shorter than two segments worth their cost is still cut, one piece
 * per slot, when whole it would keep the other slots waiting longer than its cut costs: the last
 * clip of a batch, whole on one node, left the other idle for 8 to 17 s of a 4-minute batch
 * (bench/batch). No piece shorter than this: below it a clip's units cost more than they save.
 */
const BATCH_END_MIN_SEGMENT_SEC = 10
/** The first segments on an idle mesh: the file over two per slot; cutTimes shrinks the rest to balance the slots. */
const SEGMENTS_PER_SLOT = 2
/**
 * On a mesh of one slot a file goes whole up to this length: a cut gains nothing there, but a
 * whole unit stopped midway (the node restarted) starts again from the beginning, and a longer
 * file keeps its segments so a restart loses one segment at most.
 */
export const WHOLE_ON_ONE_SLOT_MAX_SEC = 30 * 60

export interface CutContext {
  /** This job's source length, seconds. */
  durationSec: number
  sourceBytes: number
  /** Slots in the mesh as this owner sees it (its own and its peers'). */
  slots: number
  /** This owner's work ahead of the job: its jobs under way (workAround). */
  ahead: WorkAhead
  /**
   * Media seconds behind the job: this owner's queued jobs and the files a submission under way has
   * said are still coming. Their plans are chosen later, so they fill whatever slots wait.
   */
  afterSec: number
  /** jobs.segmentSeconds: the longest segment. */
  maxSegmentSec: number
  /** What a unit costs, as measured (unit-cost.ts); DEFAULT_UNIT_COST when left out. */
  unitCost?: UnitCost | null
}

export type CutChoice =
  | { whole: true, why: 'one-slot' | 'short' | 'batch' }
  | { whole: false, segmentSeconds: number, tailSegments: number }

/** The shortest segment worth its fixed cost: a unit's fixed cost within UNIT_COST_SHARE of its conversion. */
export function minSegmentSec (cost: UnitCost | null = null): number {
  const c = cost ?? DEFAULT_UNIT_COST
  const sec = c.fixedSec / (UNIT_COST_SHARE * c.secPerMediaSec)
  return Math.min(MIN_SEGMENT_CEILING_SEC, Math.max(MIN_SEGMENT_FLOOR_SEC, sec))
}

/**
 * Whole on a mesh of one slot (up to WHOLE_ON_ONE_SLOT_MAX_SEC); whole when shorter than two of the
 * shortest segments worth their cost, unless it ends a batch (BATCH_END_MIN_SEGMENT_SEC); whole
 * when, converted by one slot after the work ahead, it keeps the other slots waiting no longer than
 * its cut would cost (a batch, file by file); otherwise segments of the file's length over two per
 * slot, no shorter than that minimum and no longer than jobs.segmentSeconds, the tail finer.
 */
export function chooseCut (x: CutContext): CutChoice {
  const minSegment = minSegmentSec(x.unitCost)
  if (x.slots <= 1) {
    return x.durationSec <= WHOLE_ON_ONE_SLOT_MAX_SEC
      ? { whole: true, why: 'one-slot' }
      : { whole: false, segmentSeconds: x.maxSegmentSec, tailSegments: 0 }
  }
  const short = x.durationSec < 2 * minSegment
  // A short file alone on an idle mesh goes whole: nothing waits for it but the person who sent it.
  if (short && (isIdle(x.ahead) || x.durationSec < 2 * BATCH_END_MIN_SEGMENT_SEC)) return { whole: true, why: 'short' }
  const spread = x.durationSec / (SEGMENTS_PER_SLOT * x.slots)
  const cut = {
    whole: false as const,
    segmentSeconds: Math.min(
      x.maxSegmentSec,
      short ? Math.max(BATCH_END_MIN_SEGMENT_SEC, x.durationSec / x.slots) : Math.max(minSegment, spread)
    ),
    tailSegments: short ? 0 : x.slots
  }
  if (x.sourceBytes > MAX_WHOLE_UNIT_BYTES) return cut
  const idle = idleIfWhole(slotLoads(x.slots, x.ahead), x.durationSec, x.afterSec)
  return idle <= cutCostSec(x, cut.segmentSeconds, cut.tailSegments) ? { whole: true, why: short ? 'short' : 'batch' } : cut
}

/** Nothing ahead of the job: no unit of this owner held or waiting, no earlier job being planned. */
function isIdle (ahead: WorkAhead): boolean {
  return ahead.converting.length === 0 && ahead.waiting.length === 0 && ahead.planning <= 0
}

/**
 * What cutting the file adds, in slot-seconds of media: each of its units' fixed cost, at the
 * conversion speed. A wait shorter than this costs less than the cut.
 */
function cutCostSec (x: CutContext, segmentSec: number, tailSegments: number): number {
  const c = x.unitCost ?? DEFAULT_UNIT_COST
  const units = cutTimes(x.durationSec, segmentSec, tailSegments).length + 1
  return units * c.fixedSec / c.secPerMediaSec
}

/** The slots of the mesh as this node sees it now. */
export function meshSlots (c: JobComponents): number {
  return c.config.worker.slots + c.mesh.peers().reduce((n, p) => n + p.slotsTotal, 0)
}

/** The cost of a unit as this owner's jobs under way measured it, or null before there is enough. */
export function measuredUnitCost (c: JobComponents): UnitCost | null {
  const mine = [...c.store.inFlight()].filter(v => v.job.owner === c.mesh.peerId)
  return fitUnitCost(unitSamples(mine.flatMap(v => v.units)))
}

/**
 * A unit's progress now: its worker's last report moved on at the unit's speed (progress-estimate.ts),
 * 0 when nothing was heard: 0 to 1, as the heartbeat's schema holds every report to.
 */
export type ProgressOf = (jobId: string, index: number) => number

/**
 * This owner's work around `job`, in submission order (the order its units are offered in). Ahead
 * of it: its earlier jobs under way, by what is left of each unit held (by its progress now),
 * the units waiting, and the length of an earlier job not planned yet. Behind it: its later jobs
 * not planned yet, by their probed length. Audio units run beside a slot and are left out, and so
 * is a returned unit: its worker is done with it.
 *
 * A job without units is ahead or behind by when it was submitted, whether it is still queued or
 * being planned: plans start a few at once (plan-starts.ts), and an earlier job whose plan starts
 * at the same tick is still queued in the log. Counted as behind, such a job was taken to fill the
 * slots after this one, though its units are offered first: in a batch, a 75 s clip planned beside
 * a 15 s one before it went whole and ended the batch alone on one node for 18 to 35 s.
 */
export function workAround (
  c: Pick<JobComponents, 'store' | 'mesh'>,
  job: JobRecord,
  progressOf: ProgressOf
): { ahead: WorkAhead, afterSec: number } {
  const mine = (v: { job: JobRecord }): boolean => v.job.id !== job.id && v.job.owner === c.mesh.peerId
  const ahead: WorkAhead = { converting: [], waiting: [], planning: 0 }
  let afterSec = 0
  const unplanned = (other: JobRecord): void => {
    const sec = other.info?.durationSec ?? 0
    if (submittedBefore(other, job)) ahead.planning += sec
    else afterSec += sec
  }
  for (const view of c.store.inFlight()) {
    if (!mine(view)) continue
    const units = view.units.filter(u => u.spec.kind !== 'audio')
    if (units.length === 0) unplanned(view.job)
    for (const u of units) {
      if (isPending(u)) ahead.waiting.push(u.spec.durationSec)
      else if (isHeld(u)) ahead.converting.push(u.spec.durationSec * (1 - progressOf(u.jobId, u.index)))
    }
  }
  for (const view of c.store.queued()) if (mine(view)) unplanned(view.job)
  return { ahead, afterSec }
}

/** Job ids sort by their submission time (ULIDs); the time first, for ids made elsewhere. */
function submittedBefore (a: JobRecord, b: JobRecord): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt < b.createdAt : a.id < b.id
}

/**
 * The plan's cut settings for `job` now, from its probed length, the mesh's slots and this owner's
 * other work; with jobs.cut `segments`, every file long enough is cut at jobs.segmentSeconds.
 */
export function planCut (
  c: JobComponents,
  job: JobRecord,
  progressOf: ProgressOf
): { whole: boolean, segmentSeconds: number, tailSegments: number } {
  const slots = meshSlots(c)
  const fixed = { whole: false, segmentSeconds: c.config.jobs.segmentSeconds, tailSegments: slots > 1 ? slots : 0 }
  if (c.config.jobs.cut === 'segments') return fixed
  const around = workAround(c, job, progressOf)
  const context = {
    durationSec: job.info?.durationSec ?? 0,
    sourceBytes: job.sourceSize,
    slots,
    ahead: around.ahead,
    afterSec: around.afterSec + c.arriving.seconds(),
    maxSegmentSec: c.config.jobs.segmentSeconds,
    unitCost: measuredUnitCost(c)
  }
  const choice = chooseCut(context)
  c.logger.debug({ jobId: job.id, ...context, ...choice }, 'cut chosen')
  return choice.whole ? { ...fixed, whole: true } : { ...choice, whole: false }
}
