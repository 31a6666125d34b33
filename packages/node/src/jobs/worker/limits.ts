import type { UnitSpec } from '@ffmesh/protocol'

/**
 * Limits a worker keeps per remote owner. The worker already takes at most
 * `slots + PREFETCH_UNITS` units at once from all owners together (worker.ts), so units queued per
 * owner are bounded by that; what one owner could still do is fill this node's disk with a few
 * huge units. Its share is capped here: 16 GiB is two maximal segments (MAX_UNIT_BYTES, 8 GiB),
 * far above any real segment of `segmentSeconds`. An owner holding nothing here may always get one
 * unit, so a whole-file unit larger than the share is not refused forever.
 */
export const MAX_INPUT_BYTES_PER_REMOTE_OWNER = 16 * 1024 ** 3

interface HeldUnit { owner: string, spec: Pick<UnitSpec, 'inputs'> }

export function unitInputBytes (spec: Pick<UnitSpec, 'inputs'>): number {
  return spec.inputs.reduce((n, i) => n + i.size, 0)
}

/** Input bytes this worker holds or is about to fetch for `owner` (running units and open claims). */
export function inputBytesHeldFor (owner: string, held: Iterable<HeldUnit>): number {
  let bytes = 0
  for (const u of held) if (u.owner === owner) bytes += unitInputBytes(u.spec)
  return bytes
}

/** Whether one more unit of `adding` input bytes from `owner` keeps it within its share. */
export function withinOwnerShare (
  owner: string,
  held: Iterable<HeldUnit>,
  adding: number,
  limit = MAX_INPUT_BYTES_PER_REMOTE_OWNER
): boolean {
  const current = inputBytesHeldFor(owner, held)
  return current === 0 || current + adding <= limit
}
