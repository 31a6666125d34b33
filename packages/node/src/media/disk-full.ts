import { ErrorCodes, isFfmeshError } from '@ffmesh/protocol'

/**
 * What ffmpeg prints when a write fails for want of space. It may print it and still exit 0 (5.1
 * logs "Error writing trailer of …: No space left on device" and goes on): the file it wrote is
 * then empty or cut short, so the runner fails such a run with DISK_FULL.
 */
export const NO_SPACE_MESSAGE = /No space left on device|Disk quota exceeded/i

/** An error that says a disk was full: ENOSPC or EDQUOT from a write, DISK_FULL, or ffmpeg saying so. */
export function isDiskFullError (err: unknown): boolean {
  const e = err as { code?: string, message?: string } | null
  if (isFfmeshError(err) && err.code === ErrorCodes.DISK_FULL) return true
  return e?.code === 'ENOSPC' || e?.code === 'EDQUOT' || NO_SPACE_MESSAGE.test(String(e?.message ?? ''))
}

/**
 * Whether a step that falls back to another way on failure (a whole unit for a cut, the source for
 * an audio copy) must pass this error on instead: the run was stopped, or a disk is full, where the
 * other way would fail the same or, worse, take a cut-short file for the real thing.
 */
export function mustPassOn (err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || isDiskFullError(err)
}
