import fs from 'node:fs/promises'
import { ErrorCodes, isFfmeshError } from '@ffmesh/protocol'
import type { Ack, ResultPush } from '../../mesh/types.js'
import { crashPoint } from '../../store/crash-point.js'
import { isDamage, type UnitMeasure } from '../../media/index.js'
import type { UnitRecord } from '../../store/records.js'
import type { JobComponents } from '../shared/deps.js'
import { isLeaseOf, isLive, isVerified } from '../shared/unit-lease.js'
import type { Leases } from './lease.js'
import type { OwnerState } from './owner-state.js'

/** The parts of the owner that a result's check asks. */
export interface ResultParts { rt: OwnerState, leases: Leases }

/** A result as it reached the owner. */
export interface ResultArrival {
  /** The worker that pushed it. */
  peer: string
  push: ResultPush
  /** Where its bytes are now; removed unless the result is kept. */
  tmpFile: string
  /** What this node's own worker measured of the same file in this process (its own results only). */
  local?: UnitMeasure
}

/**
 * The owner checks a returned unit before it counts: it must answer a lease this peer was granted
 * (the current one, or an expired one while no verified result exists), and its frames, counted
 * here, must match both the worker's claim and the plan. The first verified result wins; a later
 * or duplicate one is acknowledged and discarded, so the worker frees its copy and nothing doubles.
 * `local` is what this node's own worker measured of the same file in this process: trusted, so
 * local results are not probed twice; every result from the network is measured here.
 */
export async function acceptUnitResult (c: JobComponents, parts: ResultParts, arrival: ResultArrival): Promise<Ack> {
  const { leases } = parts
  const { peer, push, tmpFile, local } = arrival
  const discard = async (ack: Ack): Promise<Ack> => {
    await fs.rm(tmpFile, { force: true })
    return ack
  }
  // Screened again: the job may have moved on while the bytes came.
  const screened = await screen(c, parts, peer, push)
  if ('ack' in screened) return await discard(screened.ack)
  const { unit, current } = screened
  if (current) await leases.returned(unit, push.attempt, peer)
  let counted: UnitMeasure | null
  try {
    counted = peer === c.mesh.peerId && local != null ? local : await c.media.measureOutput(tmpFile, unit.spec.kind)
  } catch (err) {
    // ffprobe that exits with an error code read the file and found it bad. One that never got to
    // exit (killed as this node stops, or it could not start) says nothing about the worker's
    // result: the worker keeps it and pushes it again, and the unit stays leased.
    if (!readTheFile(err)) {
      c.logger.warn(
        { jobId: push.jobId, index: push.index, peer, err },
        'could not check a result; the worker will push it again'
      )
      return discard({
        ok: false,
        code: 'BUSY',
        message: 'the owner could not check the result now; push it again later'
      })
    }
    counted = null
  }
  const problem =
    counted == null
      ? 'the result is not readable media'
      : counted.frames !== push.frames
        ? `the result has ${counted.frames} frames, the worker reported ${push.frames}`
        : unit.expectedFrames != null && counted.frames !== unit.expectedFrames
          ? `the result has ${counted.frames} frames, the plan expects ${unit.expectedFrames}`
          : null
  const latest = c.store.job(push.jobId)?.units[push.index]
  if (problem != null) {
    c.logger.warn({ jobId: push.jobId, index: push.index, peer }, `result refused: ${problem}`)
    if (latest != null && isLeaseOf(latest, peer, push.attempt, u => !isVerified(u))) {
      await leases.release(latest, { code: ErrorCodes.VERIFY_FAILED, message: `from ${peer}: ${problem}` }, true)
    }
    return discard({ ok: false, code: 'BAD_REQUEST', message: problem })
  }
  if (latest == null || isVerified(latest)) return discard({ ok: true })
  const { size } = await c.blobs.importFile(tmpFile, { hash: push.hash, unitResult: true })
  const result = {
    hash: push.hash,
    size,
    frames: push.frames,
    durationSec: counted?.durationSec ?? push.durationSec,
    startSec: counted?.startSec ?? null
  }
  crashPoint('result-before-log')
  await leases.verify(latest, push.attempt, peer, result)
  return { ok: true }
}

/**
 * What the owner can answer from a push's header alone, before its bytes are stored: a unit not
 * owned here, not leased to that peer, already verified, or a data dir already below its reserve.
 * A peer holding the swarm key cannot fill this node's disk with results it then refuses.
 */
export async function screenUnitResult (
  c: JobComponents,
  parts: ResultParts,
  peer: string,
  push: ResultPush
): Promise<Ack | null> {
  const screened = await screen(c, parts, peer, push)
  if ('ack' in screened) return screened.ack
  // Below its reserve the owner holds its jobs (their leases do not expire meanwhile), so the
  // worker keeps the result and pushes it again once there is room.
  const disk = c.disk.dataDir()
  if (disk.full) {
    return {
      ok: false,
      code: 'BUSY',
      message: `the owner's data dir is below its reserve (${disk.free} bytes free); push the result again later`
    }
  }
  return null
}

/** The checks of a result that need none of its bytes: an answer, or the unit and whether its lease is current. */
async function screen (
  c: JobComponents,
  parts: ResultParts,
  peer: string,
  push: ResultPush
): Promise<{ ack: Ack } | { unit: UnitRecord, current: boolean }> {
  // A stopping owner does not start a check (its probe may be killed midway): the worker holds it.
  if (parts.rt.stopping) return { ack: { ok: false, code: 'BUSY', message: 'the owner is stopping; push the result again later' } }
  const view = c.store.job(push.jobId)
  const unit = view?.units[push.index]
  if (view == null || unit == null || view.job.owner !== c.mesh.peerId) {
    return { ack: { ok: false, code: 'NOT_FOUND', message: `no unit ${push.jobId}/${push.index} owned here` } }
  }
  if (isVerified(unit)) return { ack: { ok: true } }
  // Held until a person looks (its records were lost): the worker keeps the result and tries again.
  if (view.job.attention != null) {
    return {
      ack: {
        ok: false,
        code: 'BUSY',
        message: 'the owner holds this job until a person looks at it; push the result again later'
      }
    }
  }
  if (view.job.state !== 'running') return { ack: { ok: false, code: 'NOT_GRANTED', message: `job is ${view.job.state}` } }
  const current = isLeaseOf(unit, peer, push.attempt, isLive)
  if (!current && !(await wasGranted(c, push, peer))) {
    c.events.emit('peer:rejected', {
      jobId: push.jobId,
      index: push.index,
      peerId: peer,
      data: { code: 'NOT_GRANTED' }
    })
    return { ack: { ok: false, code: 'NOT_GRANTED', message: 'this unit was never leased to you at that attempt' } }
  }
  return { unit, current }
}

/**
 * Whether a failed probe read the file: the Matroska walk found it damaged, ffprobe ran to an exit
 * code (the runner records it; a killed child has none), or it printed something that is not JSON.
 */
function readTheFile (err: unknown): boolean {
  return isDamage(err) || err instanceof SyntaxError || (isFfmeshError(err) && typeof err.details?.exitCode === 'number')
}

async function wasGranted (c: JobComponents, push: ResultPush, peer: string): Promise<boolean> {
  const history = await c.store.history(push.jobId)
  return history.some(
    e =>
      e.event.type === 'unit:leased' &&
      e.event.index === push.index &&
      e.event.worker === peer &&
      e.event.attempt === push.attempt
  )
}
