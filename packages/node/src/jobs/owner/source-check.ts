import fs from 'node:fs/promises'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import type { JobRecord, UnitRecord } from '../../store/records.js'

/** Whether the unit reads the job's source itself (a whole unit of a source not normalised). */
export function readsSource (job: JobRecord, unit: UnitRecord): boolean {
  return unit.inputPaths.includes(job.source)
}

/**
 * The owner reads the source again when planning and when assembling (tracks, chapters); a file
 * that changed or vanished since submit would give an output that matches neither version.
 */
export async function assertSourceUnchanged (job: JobRecord, what: string): Promise<void> {
  if (!await sourceAsSubmitted(job)) {
    throw new FfmeshError(ErrorCodes.SOURCE_CHANGED, `${job.source} changed or vanished ${what}; submit it again`)
  }
}

/** Whether the source's name still holds the file that was submitted (its size and time). */
export async function sourceAsSubmitted (job: JobRecord): Promise<boolean> {
  const stat = await fs.stat(job.source).catch(() => null)
  return stat != null && stat.size === job.sourceSize && stat.mtimeMs === job.sourceMtimeMs
}
