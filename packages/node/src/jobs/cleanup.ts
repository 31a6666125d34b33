import { TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import type { JobStore } from '../store/job-store.js'
import type { JobComponents } from './deps.js'

/**
 * Every blob the log names: unit inputs and results of every job, and handed-off sources. A blob
 * outside this set was stored just before a crash and never recorded (a result imported before
 * its unit:verified entry, a piece before job:planned, an input a worker was fetching); the log
 * wins, so it is removed at start-up, before any work could store it again.
 */
export function referencedBlobs (store: Pick<JobStore, 'jobs'>): Set<string> {
  const hashes = new Set<string>()
  for (const { job, units } of store.jobs()) {
    if (job.sourceHash != null) hashes.add(job.sourceHash)
    if (job.normalised != null) hashes.add(job.normalised.hash)
    for (const u of units) {
      for (const ref of u.spec.inputs) hashes.add(ref.hash)
      if (u.result != null) hashes.add(u.result.hash)
    }
  }
  return hashes
}

/**
 * Frees the blobs of a finished job: its pieces, unit results and normalised copy. A blob another unfinished job
 * still uses (the same source submitted twice) is kept; the source itself is never a blob.
 */
export async function cleanupJobBlobs (c: JobComponents, jobId: string): Promise<void> {
  const view = c.store.job(jobId)
  if (view == null) return
  const inUse = new Set<string>()
  for (const other of c.store.jobs()) {
    if (other.job.id === jobId || TERMINAL_JOB_STATES.includes(other.job.state)) continue
    if (other.job.normalised != null) inUse.add(other.job.normalised.hash)
    for (const u of other.units) {
      for (const ref of u.spec.inputs) inUse.add(ref.hash)
      if (u.result != null) inUse.add(u.result.hash)
    }
  }
  const mine = new Set<string>()
  if (view.job.normalised != null) mine.add(view.job.normalised.hash)
  for (const u of view.units) {
    u.inputPaths.forEach((p, i) => { if (p !== view.job.source) mine.add(u.spec.inputs[i].hash) })
    if (u.result != null) mine.add(u.result.hash)
  }
  for (const hash of mine) if (!inUse.has(hash)) await c.blobs.remove(hash)
}
