import fs from 'node:fs/promises'
import { ErrorCodes, isFfmeshError, type UnitSpec, type WireErrorCode } from '@ffmesh/protocol'
import type { UnitMeasure } from '../../media/index.js'
import { removeFetch } from '../../mesh/blob-protocol.js'
import type { Ack, ResultPush } from '../../mesh/types.js'
import { hashFile } from '../../store/hash.js'
import type { JobComponents } from '../shared/deps.js'
import { unitInputBytes } from './limits.js'
import type { Slots } from './slots.js'

export interface UnitTask {
  owner: string
  spec: UnitSpec
  attempt: number
  expectedOutputBytes: number
  abort: AbortController
  phase: 'fetching' | 'converting' | 'returning'
  progress: number
  /** Set as the task cleans up: its inputs no longer keep a piece another task shares. */
  ended?: boolean
}

export interface TaskDeps {
  slots: Slots
  /** Threads of each unit's ffmpeg (slots.ts unitThreads); 0 lets the encoder choose. */
  threads: number
  /** See audioRunsBeside: false makes an audio unit wait for a slot. */
  audioBeside: boolean
  /** Hand a result to this node's own owner side (no network). */
  acceptLocal: (peer: string, push: ResultPush, file: string, measured: UnitMeasure) => Promise<Ack>
  /** Deliver a result to a remote owner, holding it while the owner is away. */
  deliverRemote: (owner: string, push: ResultPush, file: string) => Promise<Ack>
  /** Blobs still needed by other tasks of this worker are not removed after a unit. */
  inputInUse: (hash: string, except: UnitTask) => boolean
  /** Disk the worker's other claims and units may still fill (stillNeeded). */
  promised: (except: UnitTask) => number
  heartbeat: (task: UnitTask) => void
}

/** Whether a task other than `except`, and not ending, reads the blob `hash` (TaskDeps.inputInUse). */
export function inputInUseBy (tasks: Iterable<UnitTask>, hash: string, except: UnitTask): boolean {
  for (const t of tasks) {
    if (t !== except && t.ended !== true && t.spec.inputs.some(i => i.hash === hash)) return true
  }
  return false
}

/**
 * Disk a task may still fill: the inputs it has yet to fetch (a remote unit while fetching) and
 * its output until it is returned. What a unit needs is checked against the free space less this,
 * summed over the worker's other units: each check alone saw the same free space, and a few units
 * claimed together filled the disk midway through their transfers.
 */
export function stillNeeded (task: UnitTask, self: string): number {
  if (task.ended === true || task.phase === 'returning') return 0
  return diskNeeded(task.spec, task.expectedOutputBytes, task.phase === 'fetching' && task.owner !== self)
}

/** Disk a unit takes on a worker: its output, and its inputs where it `fetches` them (not the owner's own). */
export function diskNeeded (spec: Pick<UnitSpec, 'inputs'>, expectedOutputBytes: number, fetches: boolean): number {
  return (fetches ? unitInputBytes(spec) : 0) + expectedOutputBytes
}

/** A refusal the owner reads as "try another worker", not as a failed try. */
export class UnitRefusal extends Error {
  constructor (readonly code: WireErrorCode, message: string) { super(message) }
}

/**
 * One unit on the worker side: fetch inputs (verified by SHA-512), wait for a slot, convert,
 * hash, and return the result to the owner. A unit of this node's own job reads the owner's
 * blobs in place: the same path with no transfer.
 */
export async function runUnitTask (c: JobComponents, deps: TaskDeps, task: UnitTask): Promise<void> {
  const { spec, owner } = task
  const signal = task.abort.signal
  const local = owner === c.mesh.peerId
  // A remote unit's inputs, removed after it unless another task of this worker still needs them
  // (whichever task fetched a piece two units share, the last one to end removes it).
  const held: string[] = []
  /** A fetch under way: cut short (a full disk, the owner gone, a pause), its partial file goes. */
  let fetching: string | null = null
  let outFile: string | null = null
  try {
    let inputs: string[]
    if (local) {
      const unit = c.store.job(spec.jobId)?.units[spec.index]
      if (unit == null) throw new UnitRefusal('NOT_FOUND', 'the unit is gone from the local job store')
      await checkDisk(c, diskNeeded(spec, task.expectedOutputBytes, false) + deps.promised(task))
      inputs = unit.inputPaths
    } else {
      await checkDisk(c, diskNeeded(spec, task.expectedOutputBytes, true) + deps.promised(task))
      inputs = []
      for (const ref of spec.inputs) {
        held.push(ref.hash)
        if (!await c.fetched.has(ref.hash)) {
          fetching = c.fetched.tempPath('.fetch')
          await c.mesh.fetchBlob(owner, ref, fetching, {
            signal,
            onProgress: bytes => {
              task.progress = (bytes / Math.max(1, ref.size)) * 0.1
            }
          })
          await c.fetched.importFile(fetching, { hash: ref.hash })
          fetching = null
        }
        inputs.push(c.fetched.path(ref.hash))
      }
    }
    outFile = c.blobs.tempPath(c.media.unitOutputExtension(spec))
    const releaseSlot = spec.kind === 'audio' && deps.audioBeside ? () => {} : await deps.slots.acquire(signal)
    let converted
    try {
      task.phase = 'converting'
      task.progress = 0
      deps.heartbeat(task)
      converted = await c.media.convertUnit({ spec, inputs, outFile, threads: deps.threads }, {
        signal,
        // worker.convertTimeoutScale: the documented knob for slow machines and the hang tests.
        timeoutMs: Math.round(c.media.convertTimeoutMs(spec.durationSec) * c.config.worker.convertTimeoutScale),
        onProgress: (fraction) => { task.progress = fraction },
        // A remote owner counts every result's frames itself; this node's own owner takes this
        // measure as it is, so only a local result is probed here.
        probeOutput: local
      })
    } finally {
      releaseSlot()
    }
    task.phase = 'returning'
    task.progress = 1
    deps.heartbeat(task)
    const hash = await hashFile(outFile, { signal })
    const { size } = await fs.stat(outFile)
    const push: ResultPush = {
      jobId: spec.jobId,
      index: spec.index,
      attempt: task.attempt,
      hash,
      size,
      frames: converted.frames,
      durationSec: converted.durationSec
    }
    const ack = local
      ? await deps.acceptLocal(c.mesh.peerId, push, outFile, converted)
      : await deps.deliverRemote(owner, push, outFile)
    if (!ack.ok) {
      c.logger.warn(
        { jobId: spec.jobId, index: spec.index, code: ack.code },
        `owner refused the result: ${ack.message}`
      )
    }
  } finally {
    // Before anything awaits: two tasks ending together (a pause gives back both) must not each
    // keep a shared piece for the other.
    task.ended = true
    if (outFile != null) await fs.rm(outFile, { force: true })
    if (fetching != null) await removeFetch(fetching)
    for (const hash of held) if (!deps.inputInUse(hash, task)) await c.fetched.remove(hash)
  }
}

async function checkDisk (c: JobComponents, needed: number): Promise<void> {
  await c.disk.refresh()
  const { free, full } = c.disk.dataDir()
  if (full || free - needed < c.config.worker.minFreeDisk) {
    throw new UnitRefusal(
      'DISK_FULL',
      `needs ${needed} bytes and keeps ${c.config.worker.minFreeDisk} free, has ${free}`
    )
  }
}

/** Maps a failure to the wire code the owner gets in the reject message. */
export function failureCode (err: unknown): WireErrorCode {
  if (err instanceof UnitRefusal) return err.code
  if (isFfmeshError(err) && err.code === ErrorCodes.CONVERT_TIMEOUT) return 'TIMEOUT'
  if (isFfmeshError(err) && err.code === ErrorCodes.CONVERT_FAILED) return 'CONVERT_FAILED'
  if (isFfmeshError(err) && err.code === ErrorCodes.DISK_FULL) return 'DISK_FULL'
  if ((err as { code?: string })?.code === 'HASH_MISMATCH') return 'HASH_MISMATCH'
  // Not the worker's fault, and not this unit's: the owner is not reachable from here (now).
  if (isFfmeshError(err) && err.code === ErrorCodes.PEER_UNREACHABLE) return 'OWNER_UNREACHABLE'
  return 'GENERIC'
}

