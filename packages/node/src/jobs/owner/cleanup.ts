import { TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import type { JobStore } from '../../store/job-store.js'
import type { JobView } from '../../store/reduce.js'
import type { JobComponents } from '../shared/deps.js'

/** The blobs one job's records name: unit inputs and results, and a source that is a blob (a handed-off job). */
function blobsOf (view: JobView, isBlobPath: (file: string, hash: string) => boolean): Set<string> {
  const hashes = new Set<string>()
  if (view.job.sourceHash != null && isBlobPath(view.job.source, view.job.sourceHash)) hashes.add(view.job.sourceHash)
  if (view.job.normalised != null) hashes.add(view.job.normalised.hash)
  // A log that lost records may leave holes in a plan: skip them.
  for (const u of view.units) {
    if (u == null) continue
    u.inputPaths.forEach((p, i) => {
      if (p !== view.job.source && u.spec.inputs[i] != null) hashes.add(u.spec.inputs[i].hash)
    })
    if (u.result != null) hashes.add(u.result.hash)
  }
  return hashes
}

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
      if (u == null) continue
      for (const ref of u.spec.inputs) hashes.add(ref.hash)
      if (u.result != null) hashes.add(u.result.hash)
    }
  }
  return hashes
}

/** A job that still needs its blobs: not finished, or failed or cancelled within its retention (for `retry`). */
export function keepsBlobs (view: JobView): boolean {
  return (
    !TERMINAL_JOB_STATES.includes(view.job.state) ||
    ((view.job.state === 'failed' || view.job.state === 'cancelled') && view.job.blobsFreed !== true)
  )
}

/**
 * The blobs of a job that no other job keeps (the same source submitted twice shares pieces); a
 * source file of the user's is never a blob.
 */
export function blobsOnlyFor (c: Pick<JobComponents, 'store' | 'blobs'>, jobId: string): Set<string> {
  const view = c.store.job(jobId)
  if (view == null) return new Set()
  const isBlobPath = (file: string, hash: string): boolean => file === c.blobs.path(hash)
  const inUse = new Set<string>()
  for (const other of c.store.jobs()) {
    if (other.job.id !== jobId && keepsBlobs(other)) for (const h of blobsOf(other, isBlobPath)) inUse.add(h)
  }
  return new Set([...blobsOf(view, isBlobPath)].filter(h => !inUse.has(h)))
}

/** Frees the blobs of a job that no longer needs them (done, or past its retention). Returns how many. */
export async function cleanupJobBlobs (c: Pick<JobComponents, 'store' | 'blobs'>, jobId: string): Promise<number> {
  const blobs = blobsOnlyFor(c, jobId)
  for (const hash of blobs) await c.blobs.remove(hash)
  return blobs.size
}
