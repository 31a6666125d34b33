import {
  clipMessage,
  MAX_STATUS_PAGE_JOBS,
  MAX_STATUS_TEXT,
  MAX_STREAM_FRAME_BYTES,
  type JobStatus,
  type UnitStatus,
  type WireJob
} from '@ffmesh/protocol'

/**
 * A status reply is one frame (at most MAX_STREAM_FRAME_BYTES of JSON), so pages are filled by
 * their encoded size: what is left of the frame after the reply's own fields, with room to spare.
 */
export const PAGE_BUDGET_BYTES = MAX_STREAM_FRAME_BYTES - 2 * 1024

/** Newest first: job ids are ULIDs, so their order is the order jobs were made in. */
export const newestIdFirst = (a: string, b: string): number => a < b ? 1 : a > b ? -1 : 0

const size = (value: unknown): number => Buffer.byteLength(JSON.stringify(value))
const cut = (text: string): string => clipMessage(text, MAX_STATUS_TEXT)

/** The most units from `from` on whose JSON fits in `budget` bytes (commas counted). */
export function unitsWithin (units: readonly UnitStatus[], from: number, budget: number): UnitStatus[] {
  const out: UnitStatus[] = []
  let used = 2
  for (let i = from; i < units.length; i++) {
    const u = units[i] as UnitStatus
    used += size(u) + 1
    if (used > budget) break
    out.push(u)
  }
  return out
}

/**
 * A job for the wire within `budget` bytes: its texts cut to the wire's limits, and as many of
 * its units as fit (the caller asks for the rest with `units` requests). Null if even the job
 * without units does not fit.
 */
export function toWireJob (status: JobStatus, budget: number): WireJob | null {
  const job: WireJob = {
    id: status.id,
    state: status.state,
    profile: status.profile,
    source: status.source,
    output: status.output,
    error: status.error == null ? null : { code: status.error.code, message: cut(status.error.message) },
    units: [],
    unitCount: status.units.length,
    owner: status.owner,
    createdAt: status.createdAt,
    updatedAt: status.updatedAt,
    waiting: status.waiting == null ? null : cut(status.waiting),
    progress: Math.min(1, Math.max(0, status.progress)),
    // Fields an owner of an earlier version leaves out stay out, so a job reads the same here and there.
    ...(status.attention !== undefined ? { attention: status.attention == null ? null : cut(status.attention) } : {}),
    ...(status.reason !== undefined
      ? { reason: status.reason == null ? null : { code: status.reason.code, message: cut(status.reason.message) } }
      : {}),
    ...(status.bytesIn !== undefined ? { bytesIn: status.bytesIn } : {}),
    ...(status.bytesOut !== undefined ? { bytesOut: status.bytesOut } : {})
  }
  const bare = size(job)
  if (bare > budget) return null
  job.units = unitsWithin(status.units, 0, budget - bare)
  return job
}

/**
 * One page of jobs: from `statuses` (already in listing order) as many as fit in the budget, at
 * least one, each job's units cut to what is left of the page (the rest come by `units` pages).
 */
export function fillJobsPage (
  statuses: Iterable<JobStatus>,
  limit: number,
  budget: number = PAGE_BUDGET_BYTES
): WireJob[] {
  const out: WireJob[] = []
  let left = budget
  for (const status of statuses) {
    if (out.length >= Math.min(limit, MAX_STATUS_PAGE_JOBS)) break
    const job = toWireJob(status, left)
    // A job that does not fit whole waits for the next page, unless the page is empty.
    if (job == null || (job.units.length < job.unitCount && out.length > 0)) break
    out.push(job)
    left -= size(job) + 1
  }
  return out
}

/** A wire job with all its units again, as the control API shows it. */
export function fromWireJob (job: WireJob, units: UnitStatus[]): JobStatus {
  const { unitCount: _count, ...rest } = job
  return { ...rest, units }
}
