import { ErrorCodes, FfmeshError, TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import type { JobView } from '../../store/reduce.js'
import { blobsOnlyFor } from './cleanup.js'
import type { JobComponents } from '../shared/deps.js'
import { recordEvent } from '../shared/record-event.js'

function knownJob (c: JobComponents, id: string): JobView {
  const view = c.store.job(id)
  if (view == null) {
    throw new FfmeshError(ErrorCodes.JOB_NOT_FOUND, `no job ${id} on this node (ffmesh status lists jobs)`)
  }
  return view
}

/** `ffmesh cancel`: logs the cancel, then `stopWork` revokes the job's leases. Done jobs stay done. */
export async function cancelJob (
  c: JobComponents,
  id: string,
  stopWork: (view: JobView) => Promise<void>
): Promise<void> {
  if (TERMINAL_JOB_STATES.includes(knownJob(c, id).job.state)) return
  await c.store.append(id, { type: 'job:cancelled' })
  // As the log has it now: a cancel that waited behind the job's end left the job as it ended, and
  // is not announced (a watched folder would act on the job's end twice).
  const view = c.store.job(id)
  if (view?.job.state !== 'cancelled') return
  c.events.emit('job:cancelled', { jobId: id })
  await stopWork(view)
}

/**
 * `ffmesh retry`: a failed or cancelled job runs again, keeping every unit already verified. A job
 * held because the log lost some of its records runs again too: a person decided.
 */
export async function retryJob (c: JobComponents, id: string): Promise<void> {
  const view = knownJob(c, id)
  const held = view.job.attention != null
  if (view.job.state !== 'failed' && view.job.state !== 'cancelled' && !held) {
    throw new FfmeshError(
      ErrorCodes.JOB_NOT_RETRYABLE,
      `job ${id} is ${view.job.state}; only failed or cancelled jobs can be retried`
    )
  }
  if (view.job.blobsFreed === true) {
    throw new FfmeshError(
      ErrorCodes.JOB_NOT_RETRYABLE,
      `job ${id} ended more than jobs.failedRetentionSeconds ago and its pieces were freed; submit ${view.job.source} again`
    )
  }
  if (view.units.filter(u => u != null).length < view.job.unitCount) {
    throw new FfmeshError(
      ErrorCodes.JOB_NOT_RETRYABLE,
      `the job log lost the plan of job ${id}; remove it with \`ffmesh rm ${id}\` and submit ${view.job.source} again`
    )
  }
  // Blobs of failed and cancelled jobs are kept for this: verified units are not converted again.
  // A job handed off to another node is handed off anew; that node runs its copy again (handoff.ts).
  const handedOff = view.job.handoff === true && view.job.owner !== c.mesh.peerId
  await recordEvent(c, id, { type: 'job:retried', ...(handedOff ? { owner: c.mesh.peerId } : {}) })
}

/** Only a job that ended (or one held for lost records) is removed. */
function assertRemovable ({ job }: JobView): void {
  if (!TERMINAL_JOB_STATES.includes(job.state) && job.attention == null) {
    throw new FfmeshError(
      ErrorCodes.JOB_ACTIVE,
      `job ${job.id} is ${job.state}; cancel it first (ffmesh cancel ${job.id}), then remove it`
    )
  }
}

/**
 * `ffmesh rm`: removes a finished, failed or cancelled job (or one held for lost records): its
 * records, then the blobs no other job keeps. The records go first, so a crash between the two
 * leaves only unnamed blobs, which the next start sweeps. The output is the user's and stays.
 * Returns how many blobs were freed.
 */
export async function removeJob (c: JobComponents, id: string, forget: (id: string) => Promise<void>): Promise<number> {
  assertRemovable(knownJob(c, id))
  // Computed while the records still say which blobs are the job's.
  const blobs = blobsOnlyFor(c, id)
  // Checked again as the write finds the job: a retry may have started it again meanwhile.
  await c.store.remove(id, assertRemovable)
  await forget(id)
  // A done job's blobs went when it was done: count what is there to free.
  let freed = 0
  for (const hash of blobs) {
    if (!await c.blobs.has(hash)) continue
    await c.blobs.remove(hash)
    freed++
  }
  c.events.emit('job:removed', { jobId: id, data: { blobs: freed } })
  return freed
}
