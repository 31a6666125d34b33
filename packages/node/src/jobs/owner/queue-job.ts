import { newJobId, type Profile } from '@ffmesh/protocol'
import type { JobEvent, JobRecord, LibraryJob } from '../../store/records.js'
import type { JobComponents } from '../shared/deps.js'

/** A library file to queue: what the scan knows after a stat, nothing that needs ffprobe. */
export interface QueuedFile {
  source: string
  size: number
  mtimeMs: number
  profile: Profile
  outDir: string
  library: LibraryJob
}

/**
 * A queued job for a library file: no probe (its plan probes it), no hash (a rescan compares size
 * and mtime). The caller logs the events in batches (JobStore.appendBatch), one fsync per batch.
 */
export function queuedJobEvent (c: JobComponents, file: QueuedFile, now: number): { jobId: string, event: JobEvent } {
  const job: JobRecord = {
    id: newJobId(now),
    state: 'queued',
    profile: file.profile,
    source: file.source,
    sourceSize: file.size,
    sourceMtimeMs: file.mtimeMs,
    sourceHash: null,
    outDir: file.outDir,
    output: null,
    error: null,
    owner: c.mesh.peerId,
    info: null,
    unitCount: 0,
    createdAt: now,
    updatedAt: now,
    library: file.library
  }
  return { jobId: job.id, event: { type: 'job:submitted', job } }
}
