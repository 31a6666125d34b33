import { ErrorCodes, FfmeshError, TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import type { JobView } from '../store/reduce.js'
import type { JobComponents } from './deps.js'

function knownJob (c: JobComponents, id: string): JobView {
  const view = c.store.job(id)
  if (view == null) throw new FfmeshError(ErrorCodes.JOB_NOT_FOUND, `no job ${id} on this node (ffmesh status lists jobs)`)
  return view
}

/** `ffmesh cancel`: logs the cancel, then `stopWork` revokes the job's leases. Done jobs stay done. */
export async function cancelJob (c: JobComponents, id: string, stopWork: (view: JobView) => Promise<void>): Promise<void> {
  const view = knownJob(c, id)
  if (TERMINAL_JOB_STATES.includes(view.job.state)) return
  await c.store.append(id, { type: 'job:cancelled' })
  c.events.emit('job:cancelled', { jobId: id })
  await stopWork(view)
}

/** `ffmesh retry`: a failed or cancelled job runs again, keeping every unit already verified. */
export async function retryJob (c: JobComponents, id: string): Promise<void> {
  const view = knownJob(c, id)
  if (view.job.state !== 'failed' && view.job.state !== 'cancelled') {
    throw new FfmeshError(ErrorCodes.JOB_NOT_RETRYABLE, `job ${id} is ${view.job.state}; only failed or cancelled jobs can be retried`)
  }
  // Blobs of failed and cancelled jobs are kept for this: verified units are not converted again.
  await c.store.append(id, { type: 'job:retried' })
  c.events.emit('job:retried', { jobId: id })
}
