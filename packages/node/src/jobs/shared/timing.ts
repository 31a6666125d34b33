/**
 * Numbers both sides of a job rely on: the worker acts on them and the owner counts on the worker
 * doing so. Kept here so that neither side imports the other.
 */

/**
 * Units a worker takes beyond its slots, so the next transfer overlaps the current encode. The
 * owner offers as many units as the mesh has free slots plus this many per worker.
 */
export const PREFETCH_UNITS = 1

/**
 * How often a worker offers its held results to their owners again (also on every reconnect). An
 * owner coming back gives the leases of remote workers at least this long to report in.
 */
export const HELD_RETRY_MS = 10_000
