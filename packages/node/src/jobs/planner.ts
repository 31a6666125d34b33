import fs from 'node:fs/promises'
import path from 'node:path'
import type { UnitSpec } from '@ffmesh/protocol'
import type { PlannedUnit } from '../media/index.js'
import { hashFile } from '../store/hash.js'
import type { JobRecord, UnitRecord } from '../store/records.js'
import type { JobComponents } from './deps.js'
import { assertSourceUnchanged } from './source-check.js'

/**
 * Plan: hash the source, split it into keyframe-aligned pieces, turn each piece into a blob named
 * by its SHA-512, and log `job:planned`. Idempotent: a crash mid-plan leaves the job `queued` and
 * the next start plans again (blobs are content-addressed, so nothing is stored twice).
 */
export async function planJob (c: JobComponents, job: JobRecord, options: { signal?: AbortSignal } = {}): Promise<void> {
  await assertSourceUnchanged(job, 'after it was submitted')
  const sourceHash = await hashFile(job.source, options)
  const workDir = path.join(c.paths.work, job.id)
  await fs.rm(workDir, { recursive: true, force: true })
  await fs.mkdir(workDir, { recursive: true, mode: 0o700 })
  try {
    const plan = await c.media.planSource({
      source: job.source, info: job.info, profile: job.profile, segmentSeconds: c.config.jobs.segmentSeconds, workDir
    }, options)
    const blobOf = new Map<string, { hash: string, size: number }>([[job.source, { hash: sourceHash, size: job.sourceSize }]])
    for (const unit of plan.units) {
      for (const file of unit.files) {
        if (blobOf.has(file)) continue
        blobOf.set(file, await c.blobs.importFile(file, options))
      }
    }
    const units = plan.units.map((u, index) => toUnitRecord(c, job, u, index, blobOf))
    await c.store.append(job.id, { type: 'job:planned', sourceHash, units })
    c.events.emit('job:planned', { jobId: job.id, data: { units: units.length } })
  } finally {
    await fs.rm(workDir, { recursive: true, force: true })
  }
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
