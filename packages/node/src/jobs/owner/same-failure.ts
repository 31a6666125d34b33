import { ErrorCodes, type ErrorBody } from '@ffmesh/protocol'

/**
 * A job whose units fail the same way on two workers fails because of its source, not because of a
 * worker: a stream ffmpeg cannot decode, a picture or channel layout the encoder refuses. Trying it
 * up to jobs.maxAttempts converts it again only to fail again, and each failure counted toward
 * quarantine would keep a healthy node from this owner's units for jobs.quarantineSeconds (three
 * such units in ten minutes do). So the second worker's identical failure ends the job at once,
 * and no failure of that kind counts against any node.
 */

/** A worker that failed a unit of the job, and whether that failure put it in quarantine. */
export interface FailedOn { worker: string, quarantined: boolean }

/** Two workers failed the job the same way: what it fails with. */
export interface SameFailure { index: number, signature: string, reason: ErrorBody, workers: [string, string] }

/** A job's conversion failures, by what they said; `same` once two workers have shared one. */
export interface JobFailures { bySignature: Map<string, FailedOn[]>, same: SameFailure | null }

/** What a conversion failure said, without what differs from node to node; null for other failures. */
export function failureSignature (reason: ErrorBody): string | null {
  if (reason.code !== ErrorCodes.CONVERT_FAILED) return null
  // The owner wrote "from <worker>: " (after the worker's own code, where it differed) before it.
  const said = /^(?:[A-Z_]+ )?from \S+: ([\s\S]*)$/.exec(reason.message)?.[1] ?? reason.message
  // ffmpeg names each component by its address ("[libopus @ 0x55d0…]"), and each node its own paths.
  return said.replace(/0x[0-9a-f]+/gi, '0x').replace(/(?:\/[^\s/:'"]+)+/g, '/…')
}
