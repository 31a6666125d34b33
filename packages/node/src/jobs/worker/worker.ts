import os from 'node:os'
import {
  AudioEncoders,
  clipMessage,
  ImageEncoders,
  type ConvertingUnit,
  MAX_UNIT_BYTES,
  MAX_WHOLE_UNIT_BYTES,
  profileEncoders,
  unitKey,
  VideoEncoders,
  type WireErrorCode
} from '@ffmesh/protocol'
import { unitFilters, type UnitMeasure } from '../../media/index.js'
import type { Ack, CapacityBody, ResultPush } from '../../mesh/types.js'
import type { JobComponents } from '../shared/deps.js'
import { isDiskFullError } from '../../media/disk-full.js'
import type { JobMessage } from '../shared/job-bus.js'
import type { JobMessageOf, SideMessages } from '../shared/message-router.js'
import { unitInputBytes, withinOwnerShare } from './limits.js'
import type { NodeControl } from './node-control.js'
import { audioRunsBeside, createSlots, unitThreads, type Slots } from './slots.js'
import { PREFETCH_UNITS } from '../shared/timing.js'
import { offerSequence } from '../shared/unit-order.js'
import {
  diskNeeded,
  failureCode,
  inputInUseBy,
  runUnitTask,
  stillNeeded,
  UnitRefusal,
  type UnitTask
} from './unit-task.js'

/** Which try at which unit a refusal is about. */
interface UnitAttempt { jobId: string, index: number, attempt: number }

/** A claim that drew no grant is forgotten after this long, freeing room for another. */
export const CLAIM_TTL_MS = 5_000
/**
 * A dropped claim is kept this long for a late grant: past it the owner has let the lease run out
 * (jobs.leaseSeconds) or re-offered the unit, and the grant, if it comes, is given back.
 */
export const DROPPED_CLAIM_TTL_MS = 60_000
/** How often capacity is looked at again (free disk comes from the disk monitor, measured as often). */
export const CAPACITY_REFRESH_MS = 2_000
/** Offers heard while full, kept so a freed slot claims at once instead of waiting for a re-offer. */
export const MAX_REMEMBERED_OFFERS = 32
/** A remembered offer older than this is stale (the owner has re-offered or granted it). */
export const REMEMBERED_OFFER_TTL_MS = 6_000
/** Refusals remembered so each is said once; past this many the memory starts afresh. */
export const MAX_REMEMBERED_REFUSALS = 10_000

type Offer = Extract<JobMessage, { type: 'offer' }>
/** An offer this worker claimed (or kept), from whom, and when. */
interface HeardOffer { offer: Offer, owner: string, at: number }

export interface WorkerInit {
  version: string
  acceptLocal: (peer: string, push: ResultPush, file: string, measured: UnitMeasure) => Promise<Ack>
  deliverRemote: (owner: string, push: ResultPush, file: string) => Promise<Ack>
  /** Owned units not yet verified, advertised as this node's queue. */
  queueLength: () => number
  /** Whether the worker may take new units (pause, drain, schedule). */
  control: NodeControl
  /**
   * The conversion slots (worker.slots of them); node.ts makes them first so the owner can read
   * how many are free without the worker. A worker made without them makes its own.
   */
  slots?: Slots
}

/** Why units go back when the worker is paused; BUSY costs no try and no quarantine at the owner. */
const PAUSED_MESSAGE =
  'the worker is paused (ffmesh pause, or outside worker.schedule); the unit goes back to its owner'

/**
 * The worker side: hears offers, claims what it has room, disk, encoders and filters for,
 * converts what it is granted, heartbeats, and returns results. It refuses with DISK_FULL or
 * UNSUPPORTED_PROFILE before claiming, so the owner sends the unit elsewhere.
 */
export function createWorker (c: JobComponents, init: WorkerInit) {
  const log = c.logger.child({ component: 'worker' })
  const slotsTotal = c.config.worker.slots
  const slots = init.slots ?? createSlots(slotsTotal)
  const cpus = os.availableParallelism()
  const threads = unitThreads(c.config.worker.threads, slotsTotal, cpus)
  const audioBeside = audioRunsBeside(slotsTotal, threads, cpus)
  const tasks = new Map<string, UnitTask>()
  const claims = new Map<string, HeardOffer>()
  const refusedOnce = new Set<string>()
  const remembered = new Map<string, HeardOffer>()
  /** Claims dropped unanswered after CLAIM_TTL_MS, kept so a grant that comes late can still be taken. */
  const dropped = new Map<string, HeardOffer>()
  let encoders = new Set<string>()
  let filters = new Set<string>()
  let timer: NodeJS.Timeout | undefined
  let advertised: CapacityBody | undefined

  const advertise = (): void => {
    const disk = c.disk.dataDir()
    const control = init.control.describe(tasks.size)
    c.mesh.setCapacity(advertised = {
      paused: control.paused,
      draining: control.draining,
      schedule: control.schedule,
      name: c.config.name,
      version: init.version,
      slotsTotal,
      slotsFree: slots.free,
      encoders: [...encoders].sort(),
      diskFree: Math.max(0, Math.min(disk.free, Number.MAX_SAFE_INTEGER) - c.config.worker.minFreeDisk),
      queue: init.queueLength(),
      diskFull: disk.full
    })
  }

  const heartbeat = (task: UnitTask): void => {
    c.bus
      .publish({
        type: 'heartbeat',
        owner: task.owner,
        jobId: task.spec.jobId,
        index: task.spec.index,
        attempt: task.attempt,
        phase: task.phase,
        progress: Math.min(1, task.progress)
      })
      .catch(err => log.debug({ err }, 'heartbeat not sent'))
  }

  async function refuse (
    offer: Offer,
    owner: string,
    code: 'DISK_FULL' | 'UNSUPPORTED_PROFILE' | 'TOO_LARGE',
    message: string,
    onceKey: string
  ): Promise<void> {
    if (refusedOnce.has(onceKey)) return
    if (refusedOnce.size >= MAX_REMEMBERED_REFUSALS) refusedOnce.clear()
    refusedOnce.add(onceKey)
    log.info({ jobId: offer.unit.jobId, index: offer.unit.index, code }, message)
    await reject(owner, { ...offer.unit, attempt: offer.attempt }, code, message)
  }

  /** Tells an owner this worker will not convert (or gives back) one attempt at a unit. */
  async function reject (owner: string, unit: UnitAttempt, code: WireErrorCode, message: string): Promise<void> {
    await c.bus.publish({ type: 'reject', owner, jobId: unit.jobId, index: unit.index, attempt: unit.attempt, code, message })
  }

  async function onOffer (offer: Offer, owner: string): Promise<void> {
    if (slotsTotal === 0 || !init.control.acceptsWork()) return
    const { unit } = offer
    const key = unitKey(unit.jobId, unit.index)
    if (tasks.has(key) || claims.has(key)) return
    if (offer.candidates != null && offer.candidates.length > 0 && !offer.candidates.includes(c.mesh.peerId)) return
    // Gossip is relayed, so an offer can arrive before discovery has connected this node to its
    // owner (just after start-up): a grant then could not fetch the unit. The owner offers again
    // every few seconds; by then this node is usually connected.
    if (owner !== c.mesh.peerId && !c.mesh.isConnected(owner)) {
      log.debug({ jobId: unit.jobId, index: unit.index, owner }, 'offer from an owner not connected yet: not claimed')
      return
    }
    const missing = [
      ...profileEncoders(unit.profile).filter(e => !encoders.has(e)),
      ...unitFilters(unit).filter(f => !filters.has(f)).map(f => `the ${f} filter`)
    ]
    if (missing.length > 0) {
      return refuse(
        offer,
        owner,
        'UNSUPPORTED_PROFILE',
        `this node's ffmpeg lacks ${missing.join(', ')}`,
        `${owner}:${unit.jobId}:enc`
      )
    }
    const inputBytes = unitInputBytes(unit)
    if (inputBytes > (unit.kind === 'whole' ? MAX_WHOLE_UNIT_BYTES : MAX_UNIT_BYTES)) {
      return refuse(offer, owner, 'TOO_LARGE', `unit of ${inputBytes} bytes is over the limit`, `${key}:size`)
    }
    // This node's own units obey the same reserve; their inputs are already here, only the output
    // is new. Beside what the units it holds may still write.
    const needed = diskNeeded(unit, offer.expectedOutputBytes, owner !== c.mesh.peerId) + promised()
    const disk = c.disk.dataDir()
    if (disk.full || disk.free - needed < c.config.worker.minFreeDisk) {
      return refuse(
        offer,
        owner,
        'DISK_FULL',
        `needs ${needed} bytes and keeps ${c.config.worker.minFreeDisk} free; ${disk.free} free`,
        `${key}:${offer.attempt}:disk`
      )
    }
    if (tasks.size + claims.size >= slotsTotal + PREFETCH_UNITS) {
      if (remembered.size >= MAX_REMEMBERED_OFFERS) remembered.delete(remembered.keys().next().value as string)
      remembered.set(key, { offer, owner, at: c.clock() })
      log.debug(
        { jobId: unit.jobId, index: unit.index, tasks: [...tasks.keys()], claims: [...claims.keys()] },
        'offer kept for later: no room'
      )
      return
    }
    remembered.delete(key)
    // Security: one remote owner may fill only its share of this node's disk (limits.ts).
    if (
      owner !== c.mesh.peerId &&
      !withinOwnerShare(
        owner,
        [...tasks.values(), ...[...claims.values()].map(cl => ({ owner: cl.owner, spec: cl.offer.unit }))],
        inputBytes
      )
    ) {
      return
    }
    claims.set(key, { offer, owner, at: c.clock() })
    dropped.delete(key)
    log.debug({ jobId: unit.jobId, index: unit.index, attempt: offer.attempt }, 'claiming')
    await c.bus.publish({ type: 'claim', owner, jobId: unit.jobId, index: unit.index, attempt: offer.attempt })
  }

  /**
   * A slot came free: claim the first offer heard while full, in the order owners offer (the
   * earliest job, then its longest unit). Taking the freshest instead turned a batch around: the
   * last clip ran before a long one submitted ahead of it, and the other node stood idle at the end.
   */
  function claimRemembered (): void {
    const now = c.clock()
    for (const [key, r] of remembered) if (now - r.at > REMEMBERED_OFFER_TTL_MS) remembered.delete(key)
    const first = [...remembered.entries()].sort(([, a], [, b]) => offerSequence(a.offer.unit, b.offer.unit))[0]
    if (first == null) return
    remembered.delete(first[0])
    onOffer(first[1].offer, first[1].owner).catch(err => log.warn({ err }, 'offer handling failed'))
  }

  /**
   * A grant for a claim dropped unanswered: an owner whose job log was slow to take the lease (a
   * disk busy writing back) grants after CLAIM_TTL_MS. The lease is logged and the owner waits on
   * it, so the worker takes it while it has room. Turned back (BUSY), the unit was offered again
   * without this worker for a while, and an idle worker watched a batch's last clip wait behind
   * another (bench/batch).
   */
  function claimFromDropped (key: string, m: JobMessageOf<'grant'>, from: string): HeardOffer | undefined {
    const late = dropped.get(key)
    if (late == null || late.owner !== from || late.offer.attempt !== m.attempt || m.worker !== c.mesh.peerId) {
      return undefined
    }
    dropped.delete(key)
    if (tasks.size + claims.size >= slotsTotal + PREFETCH_UNITS) return undefined
    claims.set(key, late)
    return late
  }

  function onGrant (m: Extract<JobMessage, { type: 'grant' }>, from: string): void {
    const key = unitKey(m.jobId, m.index)
    remembered.delete(key)
    const claim = claims.get(key) ?? claimFromDropped(key, m, from)
    if (claim == null && m.worker === c.mesh.peerId && !tasks.has(key)) {
      // Granted for a claim this worker dropped and has no room for now, or never made. Silent, the
      // lease would hold the unit with nobody converting it until it ran out (jobs.leaseSeconds;
      // 20 s of an idle core on a loaded bench); BUSY gives it back at once.
      const message = `granted after this worker dropped its claim (none is kept over ${CLAIM_TTL_MS / 1000} s) and filled its room`
      log.debug({ jobId: m.jobId, index: m.index, attempt: m.attempt }, 'grant came after the claim was dropped')
      reject(from, m, 'BUSY', message).catch(() => {})
      return
    }
    if (claim == null || claim.owner !== from) return
    claims.delete(key)
    if (m.worker !== c.mesh.peerId || claim.offer.attempt !== m.attempt) return
    // Claimed, then paused before the grant came: say so at once rather than let the lease expire.
    if (!init.control.acceptsWork()) {
      reject(from, m, 'BUSY', PAUSED_MESSAGE).catch(() => {})
      return
    }
    const task: UnitTask = {
      owner: from,
      spec: claim.offer.unit,
      attempt: m.attempt,
      expectedOutputBytes: claim.offer.expectedOutputBytes,
      abort: new AbortController(),
      phase: 'fetching',
      progress: 0
    }
    tasks.set(key, task)
    advertise()
    const beat = setInterval(() => heartbeat(task), Math.round(c.config.jobs.heartbeatSeconds * 1000))
    heartbeat(task)
    runUnitTask(
      c,
      {
        slots,
        threads,
        audioBeside,
        acceptLocal: init.acceptLocal,
        deliverRemote: init.deliverRemote,
        heartbeat,
        inputInUse,
        promised
      },
      task
    )
      .catch(async err => {
        if (task.abort.signal.aborted) return
        // A unit that failed while the disk filled is a refusal, not a failed try: it waits for space.
        const code =
          isDiskFullError(err) ||
          (await c.disk.refresh().then(
            () => c.disk.dataDir().full,
            () => false
          ))
            ? 'DISK_FULL'
            : failureCode(err)
        log.warn(
          { jobId: m.jobId, index: m.index, code, err: err instanceof UnitRefusal ? undefined : err },
          'unit failed'
        )
        await reject(from, m, code, clipMessage(String((err as Error).message ?? err))).catch(() => {})
      })
      .finally(() => {
        clearInterval(beat)
        tasks.delete(key)
        advertise()
        claimRemembered()
      })
  }

  /** A revoked lease stops its task; a turned-down claim frees its room for the next offer. */
  function onRevoke (m: Extract<JobMessage, { type: 'revoke' }>, from: string): void {
    const key = unitKey(m.jobId, m.index)
    const task = tasks.get(key)
    if (task != null && task.attempt === m.attempt && task.owner === from) task.abort.abort(new Error('lease revoked'))
    const claim = claims.get(key)
    if (claim != null && claim.owner === from && claim.offer.attempt === m.attempt) {
      claims.delete(key)
      claimRemembered()
    }
    const late = dropped.get(key)
    if (late != null && late.owner === from && late.offer.attempt === m.attempt) dropped.delete(key)
  }

  /**
   * Paused: units go back to their owners as a refusal (BUSY: no try spent, no quarantine), all
   * but those returning a result (a pause without --drain), or only those not converting yet.
   */
  function giveBack (which: 'waiting' | 'all'): void {
    for (const task of tasks.values()) {
      if (task.abort.signal.aborted || (which === 'waiting' ? task.phase !== 'fetching' : task.phase === 'returning')) {
        continue
      }
      task.abort.abort(new Error('worker paused'))
      log.info({ jobId: task.spec.jobId, index: task.spec.index, owner: task.owner }, 'paused: giving the unit back')
      reject(task.owner, { ...task.spec, attempt: task.attempt }, 'BUSY', PAUSED_MESSAGE)
        .catch(err => log.debug({ err }, 'give-back not sent'))
    }
  }

  /** Disk the worker's claims and units may still fill (stillNeeded), but `except`'s. */
  function promised (except?: UnitTask): number {
    let bytes = 0
    for (const t of tasks.values()) if (t !== except) bytes += stillNeeded(t, c.mesh.peerId)
    for (const { offer, owner } of claims.values()) {
      bytes += diskNeeded(offer.unit, offer.expectedOutputBytes, owner !== c.mesh.peerId)
    }
    return bytes
  }

  function inputInUse (hash: string, except: UnitTask): boolean {
    return inputInUseBy(tasks.values(), hash, except)
  }

  async function refresh (): Promise<void> {
    const now = c.clock()
    let expired = 0
    for (const [key, late] of dropped) if (now - late.at > DROPPED_CLAIM_TTL_MS) dropped.delete(key)
    for (const [key, claim] of claims) {
      if (now - claim.at <= CLAIM_TTL_MS) continue
      claims.delete(key)
      if (dropped.size >= MAX_REMEMBERED_OFFERS) dropped.delete(dropped.keys().next().value as string)
      dropped.set(key, claim)
      expired++
    }
    if (expired > 0) claimRemembered()
    advertise()
  }

  let unsubscribeControl = (): void => {}
  /** The job messages the worker side handles (node.ts routes them here). */
  const messages = {
    offer: (m, from) => { onOffer(m, from).catch(err => log.warn({ err }, 'offer handling failed')) },
    grant: (m, from) => onGrant(m, from),
    revoke: (m, from) => { if (m.worker === c.mesh.peerId) onRevoke(m, from) }
  } satisfies SideMessages

  return {
    messages,
    slotsFree: (): number => slots.free,
    /** Units this worker holds now, for any owner (`ffmesh status --mesh`, the dashboard). */
    running: (): ConvertingUnit[] =>
      [...tasks.values()].map(t => ({
        jobId: t.spec.jobId,
        index: t.spec.index,
        owner: t.owner,
        phase: t.phase,
        progress: Math.min(1, t.progress)
      })),
    controlState: () => init.control.describe(tasks.size),
    /** What this node advertised last (its capacity as its peers see it). */
    capacity: (): CapacityBody | undefined => advertised,
    async start (): Promise<void> {
      const available = await c.media.runner.encoders()
      filters = await c.media.runner.filters()
      // Only the encoders profiles can name are advertised; ffmpeg lists hundreds.
      encoders = new Set<string>([...VideoEncoders, ...AudioEncoders, ...ImageEncoders].filter(e => available.has(e)))
      await refresh()
      timer = setInterval(() => {
        refresh().catch(() => {})
      }, CAPACITY_REFRESH_MS)
      unsubscribeControl = init.control.onChange(change => {
        if (change.giveBack !== 'none') giveBack(change.giveBack)
        advertise()
        if (init.control.acceptsWork()) claimRemembered()
      })
    },
    async stop (): Promise<void> {
      clearInterval(timer)
      unsubscribeControl()
      for (const t of tasks.values()) t.abort.abort(new Error('node stopping'))
      const deadline = Date.now() + 5_000
      while (tasks.size > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    }
  }
}

export type Worker = ReturnType<typeof createWorker>
