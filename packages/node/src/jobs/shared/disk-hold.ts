import { isDiskFullError } from '../../media/disk-full.js'
import type { JobRecord } from '../../store/records.js'
import type { JobComponents } from './deps.js'
import { diskFullMessage } from './disk-monitor.js'

/**
 * Why this node must not work on a job now, for `status` and the owner: its data dir or the job's
 * output folder is below the reserve, or the job log is not taking writes. Null when it may.
 */
export function holdReason (c: Pick<JobComponents, 'disk' | 'store'>, job: Pick<JobRecord, 'outDir'>): string | null {
  const full = c.disk.fullFor(job.outDir)
  if (full != null) return diskFullMessage(full)
  const problem = c.store.problem()
  return problem == null ? null : `the job log takes no writes now: ${problem.message}`
}

/**
 * Whether a failed step (a plan, an assembly) failed because a disk filled: then the job waits for
 * space instead of failing. The disks are measured again at once, since the step may have been
 * the first to meet a disk that filled since the last sample.
 */
export async function failedForSpace (
  c: Pick<JobComponents, 'disk' | 'store'>,
  job: Pick<JobRecord, 'outDir'>,
  err: unknown
): Promise<boolean> {
  // Measured first either way, so the hold applies from the next tick, not the next sample.
  await c.disk.refresh().catch(() => {})
  return isDiskFullError(err) || holdReason(c, job) != null
}
