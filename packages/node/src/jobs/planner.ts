import fs from 'node:fs/promises'
import path from 'node:path'
import type { UnitSpec } from '@ffmesh/protocol'
import pMap from 'p-map'
import type { PlannedUnit } from '../media/index.js'
import { hashFile } from '../store/hash.js'
import type { JobRecord, UnitRecord } from '../store/records.js'
import type { JobComponents } from './deps.js'
import { assertSourceUnchanged } from './source-check.js'

/** Pieces imported into the blob store at once; each holds one read buffer while it is hashed. */
const IMPORT_CONCURRENCY = 4

/**
 * Plan: hash the source, split it into keyframe-aligned pieces, turn each piece into a blob named
 * by its SHA-512, and log `job:planned`. Idempotent: a crash mid-plan leaves the job `queued` and
 * the next start plans again (blobs are content-addressed, so nothing is stored twice).
 */
export async function planJob (c: JobComponents, job: JobRecord, options: { signal?: AbortSignal } = {}): Promise<void> {
  await assertSourceUnchanged(job, 'after it was submitted')
  const workDir = path.join(c.paths.work, job.id)
  await fs.rm(workDir, { recursive: true, force: true })
  await fs.mkdir(workDir, { recursive: true, mode: 0o700 })
  try {
    // Hashing the source and splitting it both read the whole file: they run side by side, and
    // both settle before anything is thrown, so no ffmpeg still writes into workDir afterwards.
    const [hashed, planned] = await Promise.allSettled([
      hashFile(job.source, options),
      c.media.planSource({ source: job.source, info: job.info, profile: job.profile, segmentSeconds: c.config.jobs.segmentSeconds, tailSegments: tailSegments(c), workDir }, options)
    ])
    if (planned.status === 'rejected') throw planned.reason
    if (hashed.status === 'rejected') throw hashed.reason
    const [sourceHash, plan] = [hashed.value, planned.value]
    const pieces = [...new Set(plan.units.flatMap(u => u.files))].filter(f => f !== job.source)
    // A few imports at once overlap one piece's fsync with the next one's hashing.
    const imported = await pMap(pieces, async file => [file, await c.blobs.importFile(file, options)] as const, { concurrency: IMPORT_CONCURRENCY, signal: options.signal })
    const blobOf = new Map<string, { hash: string, size: number }>([[job.source, { hash: sourceHash, size: job.sourceSize }], ...imported])
    const units = plan.units.map((u, index) => toUnitRecord(c, job, u, index, blobOf))
    await c.store.append(job.id, { type: 'job:planned', sourceHash, units })
    c.events.emit('job:planned', { jobId: job.id, data: { units: units.length } })
  } finally {
    await fs.rm(workDir, { recursive: true, force: true })
  }
}

/**
 * The slots of the mesh as this node sees it now, so each can end the job on a half-length unit.
 * A single slot converts every unit in turn and has no one to wait for: its tail stays whole.
 */
function tailSegments (c: JobComponents): number {
  const slots = c.config.worker.slots + c.mesh.peers().reduce((n, p) => n + p.slotsTotal, 0)
  return slots > 1 ? slots : 0
}

function toUnitRecord (c: JobComponents, job: JobRecord, u: PlannedUnit, index: number, blobOf: Map<string, { hash: string, size: number }>): UnitRecord {
  const inputs = u.files.map(f => blobOf.get(f) as { hash: string, size: number })
  const spec: UnitSpec = {
    jobId: job.id,
    index,
    kind: u.kind,
    inputs,
    preRoll: u.preRoll,
    range: u.range,
    durationSec: u.durationSec,
    frames: u.expectedFrames,
    inputFormat: u.inputFormat,
    profile: job.profile
  }
  return {
    jobId: job.id,
    index,
    spec,
    inputPaths: u.files.map(f => f === job.source ? job.source : c.blobs.path((blobOf.get(f) as { hash: string }).hash)),
    expectedFrames: u.expectedFrames,
    state: 'pending',
    worker: null,
    attempts: 0,
    failures: 0,
    leaseUntil: null,
    lastError: null,
    result: null
  }
}
