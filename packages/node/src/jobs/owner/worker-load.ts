import type { PeerStatus } from '@ffmesh/protocol'
import type { JobView } from '../../store/reduce.js'
import type { UnitRecord } from '../../store/records.js'
import { PREFETCH_UNITS } from '../shared/timing.js'
import { longestFirst as longestSpecFirst } from '../shared/unit-order.js'
import { isHeld, isPending } from '../shared/unit-lease.js'

/** A worker's slots and, where the owner can tell, the work of its own it has left there. */
export interface Readiness {
  slotsFree: number
  slotsTotal: number
  /**
   * Media seconds of this owner's units the worker holds, at a video's cost, by reported progress
   * (busy-time.ts workLeft); undefined where it holds none of them.
   */
  leftSec?: number
}

/**
 * A worker as this owner sees it; `slotsFree` goes below zero when units wait on the worker, and
 * `leftSec` says how long they keep it busy (busy-time.ts).
 */
export interface WorkerLoad extends Readiness { id: string, held: number }

/**
 * Units a worker may still take: its free slots and the prefetch each worker holds beside them
 * (PREFETCH_UNITS). Zero or below when it holds all it may (a unit queued behind another waits).
 */
export function takeRoom (w: Pick<Readiness, 'slotsFree'>): number {
  return w.slotsFree + PREFETCH_UNITS
}

type Advert = Pick<PeerStatus, 'id' | 'slotsFree' | 'slotsTotal'>

/**
 * The workers an owner may offer to: its peers that are not paused (ffmesh pause, or outside their
 * schedule) and whose disk is not below their reserve, and its own worker, with no slots while that is paused. A paused
 * worker's units still
 * count where it holds them (a drain), through `heldByWorker`.
 */
export function offerableWorkers (
  peers: Array<Advert & { paused: boolean; diskFull?: boolean }>,
  local: Advert & { paused: boolean }
): Advert[] {
  const strip = ({ id, slotsFree, slotsTotal }: Advert): Advert => ({ id, slotsFree, slotsTotal })
  return [
    ...peers.filter(p => !p.paused && p.diskFull !== true).map(strip),
    { ...strip(local), slotsTotal: local.paused ? 0 : local.slotsTotal }
  ]
}

/** Units of this owner's running jobs that each worker holds (leased, fetching or converting). */
export function heldByWorker (views: JobView[]): Map<string, number> {
  const held = new Map<string, number>()
  for (const u of heldUnits(views)) held.set(u.worker, (held.get(u.worker) ?? 0) + 1)
  return held
}

/** The units of running jobs that a worker holds (leased, fetching or converting), with that worker. */
export function * heldUnits (views: JobView[]): Generator<UnitRecord & { worker: string }> {
  for (const { job, units } of views) {
    if (job.state !== 'running') continue
    for (const u of units) if (isHeld(u) && u.worker != null) yield u as UnitRecord & { worker: string }
  }
}

/**
 * How free each worker is. Adverts lag (a worker advertises every second or so), so the owner's own
 * leases count at once: a worker holding units of this owner has its slots less those units free.
 * A worker holding none is taken at its advert, which also counts other owners' work there.
 * An audio unit counts as a unit: it runs beside the slots but its CPU is real.
 * `left`: the media seconds each worker has left of this owner's units (workLeft).
 */
export function workerLoads (
  adverts: Advert[],
  held: ReadonlyMap<string, number>,
  left: ReadonlyMap<string, number> = new Map()
): WorkerLoad[] {
  return adverts.map(a => {
    const mine = held.get(a.id) ?? 0
    const slotsFree = mine > 0 ? a.slotsTotal - mine : a.slotsFree
    return { id: a.id, slotsTotal: a.slotsTotal, held: mine, slotsFree, leftSec: left.get(a.id) }
  })
}

/** Units worth offering now: a slot's worth per free slot plus the prefetch each worker takes. */
export function offerRoom (loads: WorkerLoad[]): number {
  const room = loads.filter(w => w.slotsTotal > 0).reduce((n, w) => n + Math.max(0, takeRoom(w)), 0)
  // At least one, so a job is offered before any advert is heard (a fresh mesh).
  return Math.max(1, room)
}

/** Two of this job's units, longest first (unit-order.ts). */
const longestFirst = (a: UnitRecord, b: UnitRecord): number => longestSpecFirst(a.spec, b.spec)

/** Pending units in the order they are offered. */
export function offerOrder (units: UnitRecord[]): UnitRecord[] {
  return units.filter(isPending).sort(longestFirst)
}

/** The workers converting a unit of any of these jobs now. */
export function convertingWorkers (views: JobView[]): Set<string> {
  const workers = new Set<string>()
  for (const u of heldUnits(views)) if (u.state === 'converting') workers.add(u.worker)
  return workers
}

/**
 * The end of a job: nothing is pending, a worker stands idle, and another holds a unit it has not
 * started (prefetched behind the one it converts). Moving that unit to the idle worker ends the job
 * up to one unit sooner. Returns the unit to move and the idle worker it may go to, or null.
 * `converting`: the workers converting any of this owner's units (convertingWorkers). The unit
 * ahead may be another job's: at the end of a batch, the last clip's piece prefetched behind the
 * whole clip before it kept an idle node waiting 20 s (bench/batch).
 */
export function unitToMove (
  units: UnitRecord[],
  loads: WorkerLoad[],
  converting: ReadonlySet<string>,
  usable: (worker: string, unit: UnitRecord) => boolean
): { unit: UnitRecord, to: WorkerLoad } | null {
  if (units.some(isPending)) return null
  const idle = loads.filter(w => w.slotsTotal > 0 && w.held === 0 && w.slotsFree > 0)
  if (idle.length === 0) return null
  // A unit waits only where a worker holds more units than it has slots and converts one already.
  const overfull = new Set(loads.filter(w => w.slotsFree < 0).map(w => w.id))
  const waiting = units
    .filter(u => u.state === 'leased' && u.worker != null && overfull.has(u.worker) && converting.has(u.worker))
    .sort(longestFirst)
  for (const unit of waiting) {
    const to = idle.find(w => usable(w.id, unit))
    if (to != null) return { unit, to }
  }
  return null
}

/** Where a blob a worker asks for lives, if that worker holds a lease on a unit that needs it. */
export function leasedInputPath (views: JobView[], worker: string, hash: string): string | null {
  for (const u of heldUnits(views)) {
    if (u.worker !== worker) continue
    const i = u.spec.inputs.findIndex(ref => ref.hash === hash)
    if (i >= 0) return u.inputPaths[i] ?? null
  }
  return null
}

/**
 * Whether a unit waits for a free slot instead of being prefetched behind another unit on a busy
 * worker. A whole unit is a file's whole encode: queued behind another file on one worker while
 * another worker has room, it can keep that room empty for minutes. Only a worker whose slot frees
 * within seconds fetches it early (busy-time.ts wholePrefetcher), which hides the copy of the file.
 */
export function waitsForFreeSlot (unit: Pick<UnitRecord, 'spec'>): boolean {
  return unit.spec.kind === 'whole'
}

/** Whether some worker the unit may go to has a slot free now. */
export function hasFreeSlot (loads: WorkerLoad[], excluded: (worker: string) => boolean): boolean {
  return loads.some(w => w.slotsTotal > 0 && w.slotsFree > 0 && !excluded(w.id))
}
