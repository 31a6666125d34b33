import { TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import type { JobComponents } from './deps.js'

/**
 * Frees the blobs of a finished job: its pieces and unit results. A blob another unfinished job
 * still uses (the same source submitted twice) is kept; the source itself is never a blob.
 */
export async function cleanupJobBlobs (c: JobComponents, jobId: string): Promise<void> {
  const view = c.store.job(jobId)
  if (view == null) return
  const inUse = new Set<string>()
  for (const other of c.store.jobs()) {
    if (other.job.id === jobId || TERMINAL_JOB_STATES.includes(other.job.state)) continue
    for (const u of other.units) {
      for (const ref of u.spec.inputs) inUse.add(ref.hash)
      if (u.result != null) inUse.add(u.result.hash)
    }
  }
  const mine = new Set<string>()
  for (const u of view.units) {
    u.inputPaths.forEach((p, i) => { if (p !== view.job.source) mine.add(u.spec.inputs[i].hash) })
    if (u.result != null) mine.add(u.result.hash)
  }
  for (const hash of mine) if (!inUse.has(hash)) await c.blobs.remove(hash)
}
