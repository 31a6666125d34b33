import fs from 'node:fs/promises'
import path from 'node:path'
import type { UnitSpec } from '@ffmesh/protocol'
import pMap from 'p-map'
import { plannedSpec, type MediaInfo, type PlanInit, type PlannedUnit, type PlanResult } from '../../media/index.js'
import { crashPoint } from '../../store/crash-point.js'
import { hashFile } from '../../store/hash.js'
import type { JobRecord, UnitRecord } from '../../store/records.js'
import type { TaskLimiter } from '../../task-limiter.js'
import type { JobComponents } from '../shared/deps.js'
import { recordEvent } from '../shared/record-event.js'
import { NOT_STARTED } from '../shared/unit-lease.js'
import { classifyJob } from './classify.js'
import { planCut, type ProgressOf } from './cut-policy.js'
import { specStreams } from './spec-streams.js'
import { assertSourceUnchanged } from './source-check.js'

/** Pieces imported into the blob store at once; each holds one read buffer while it is hashed. */
const IMPORT_CONCURRENCY = 4

/**
 * Plan: split the source into keyframe-aligned pieces, turn each piece into a blob named by its
 * SHA-512, and log `job:planned`. The audio unit comes first, in its own
 * `job:units-planned`, so a worker converts it while this node cuts the video. Resumable: a crash
 * mid-plan leaves the job `queued`, or `running` with its audio unit and `planning` set, and the
 * next start plans the rest again (blobs are content-addressed, so nothing is stored twice).
 */
export async function planJob (
  c: JobComponents,
  jobId: string,
  options: { signal?: AbortSignal, progressOf: ProgressOf, wholeReads: TaskLimiter }
): Promise<void> {
  // Read now, not from the caller's view: a plan that ended since that view was taken is not redone.
  const view = c.store.job(jobId)
  if (view == null || !needsPlan(view.job)) return
  const job = await classifyJob(c, view.job, options)
  if (job?.info == null) return
  await assertSourceUnchanged(job, 'after it was submitted')
  const workDir = path.join(c.paths.work, job.id)
  await fs.rm(workDir, { recursive: true, force: true })
  await fs.mkdir(workDir, { recursive: true, mode: 0o700 })
  const init: PlanInit = {
    source: job.source,
    info: job.info,
    profile: job.profile,
    ...planCut(c, job, options.progressOf),
    workDir
  }
  let first = view.units.length
  try {
    let audio = view.units.some(u => u.spec.kind === 'audio')
    // Before the cut, which would share this node's core with the audio's stream copy.
    const early = audio ? null : await c.media.planAudioFirst(init, options)
    if (early != null) {
      const blob = await c.blobs.importFile(early.files[0] as string, options)
      const unit = toUnitRecord(c, job, early, first++, new Map([[early.files[0] as string, blob]]), job.info)
      await recordEvent(c, job.id, { type: 'job:units-planned', units: [unit] }, { data: { units: 1 } })
      crashPoint('plan-after-audio')
      audio = true
    }
    // Should the cut fail and the plan fall back to one whole unit (which converts the audio
    // itself), the audio unit logged above is converted and left unused: a rare, harmless waste.
    // Two whole-file plans at once (each a packet scan and a hash of the source) share the CPU and
    // both finish late; one after the other, the first is offered in about half the time and the
    // second no later. A cut does not wait: it is long, and reads while its pieces are stored.
    const read = async (): Promise<[PlanResult, string | null]> => {
      const plan = await c.media.planSource({ ...init, audio: !audio }, options)
      return [plan, await sourceHashFor(job, plan.units, options)]
    }
    const [{ units: planUnits, videoFrames, info, normalised }, sourceHash] =
      init.whole === true ? await options.wholeReads.run(read) : await read()
    // A normalised copy is a blob like a piece: assembly reads it, and a whole unit may too.
    const pieces = [
      ...new Set([...planUnits.flatMap(u => u.files), ...(normalised != null ? [normalised] : [])])
    ].filter(f => f !== job.source)
    // A few imports at once overlap one piece's fsync with the next one's hashing.
    const imported = await pMap(pieces, async file => [file, await c.blobs.importFile(file, options)] as const, {
      concurrency: IMPORT_CONCURRENCY,
      signal: options.signal
    })
    const blobOf = new Map<string, { hash: string, size: number }>(imported)
    if (sourceHash != null) blobOf.set(job.source, { hash: sourceHash, size: job.sourceSize })
    const units = planUnits.map((u, i) => toUnitRecord(c, job, u, first + i, blobOf, info ?? job.info))
    const planned = {
      type: 'job:planned' as const,
      sourceHash,
      units,
      videoFrames,
      info,
      normalised: normalised != null ? blobOf.get(normalised) : null
    }
    await recordEvent(c, job.id, planned, { data: { units: first + units.length } })
  } finally {
    await fs.rm(workDir, { recursive: true, force: true })
  }
}

/**
 * The source's SHA-512 where a unit reads the source itself (a plan that fell back to one whole
 * unit), or the hash a handed-off source arrived with; otherwise none. Pieces are hashed as they
 * are stored, so a cut plan skips a whole extra read and hash of the source on the core that is
 * about to start converting.
 */
async function sourceHashFor (
  job: JobRecord,
  units: PlannedUnit[],
  options: { signal?: AbortSignal }
): Promise<string | null> {
  if (job.sourceHash != null) return job.sourceHash
  return units.some(u => u.files.includes(job.source)) ? await hashFile(job.source, options) : null
}

/** Queued, or running on the part of its plan logged before a stop. */
export function needsPlan (job: JobRecord): boolean {
  return job.state === 'queued' || (job.state === 'running' && job.planning === true)
}

function toUnitRecord (
  c: JobComponents,
  job: JobRecord,
  u: PlannedUnit,
  index: number,
  blobOf: Map<string, { hash: string; size: number }>,
  info: MediaInfo | null | undefined
): UnitRecord {
  const streams = u.kind === 'whole' ? specStreams(info) : null
  const inputs = u.files.map(f => blobOf.get(f) as { hash: string; size: number })
  const spec: UnitSpec = {
    jobId: job.id,
    index,
    ...plannedSpec(u),
    inputs,
    ...(streams != null ? { streams } : {}),
    profile: job.profile
  }
  return {
    jobId: job.id,
    index,
    spec,
    inputPaths: u.files.map(f =>
      f === job.source ? job.source : c.blobs.path((blobOf.get(f) as { hash: string }).hash)
    ),
    expectedFrames: u.expectedFrames,
    ...NOT_STARTED
  }
}
