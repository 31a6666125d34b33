/**
 * A unit whose try failed goes to another worker next, where another can take it: a node's own
 * trouble (its ffmpeg build, its disk, its memory) then does not fail the unit again there, and a
 * second failure on another node tells whether the source is the cause (same-failure.ts). Left to
 * the freest worker, the unit would go straight back to the node that failed it, whose slot has
 * just freed, and could spend jobs.maxAttempts there. A mesh where no other worker could take the
 * unit retries it on the same node at once.
 */

/** How long a failed try keeps its unit from that worker, at most: a bound, for a mesh whose others stay busy. */
export const RETRY_ELSEWHERE_MS = 10 * 60_000

export interface LastFailure { worker: string, at: number }

/**
 * The worker the unit is kept from now, or null: the one whose try failed last, while another
 * worker that is not excluded has slots.
 */
export function keptFrom (
  last: LastFailure | null,
  workers: ReadonlyArray<{ id: string, slotsTotal: number }>,
  excluded: (peer: string) => boolean,
  now: number
): string | null {
  if (last == null || now - last.at >= RETRY_ELSEWHERE_MS) return null
  const another = workers.some(w => w.id !== last.worker && w.slotsTotal > 0 && !excluded(w.id))
  return another ? last.worker : null
}
