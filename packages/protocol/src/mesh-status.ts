import { z } from 'zod'
import { ErrorCodes, type ErrorCode } from './errors.js'
import { MAX_NAME_LENGTH, MAX_UNIT_TRIES, MAX_UNITS_PER_JOB } from './limits.js'
import type { JobStatus, ScheduleState, UnitTry } from './status.js'
import type { JobState } from './units.js'
import { FailureFrameSchema } from './streams.js'
import { JobIdSchema, JobStates, UnitIndexSchema, UnitStates } from './units.js'

/**
 * The mesh as a whole, seen from any node: every node's state and every job with its owner. The
 * control API serves these types (`meshNodes`, `meshJobs`, `meshJob`, `pause`, `resume`), and the
 * status stream protocol (streams.ts) carries their parts between nodes.
 */

/** Whether a node's worker takes new units. */
export interface NodeControlState {
  /** It takes no new units: paused by a person (`ffmesh pause`) or outside its schedule. */
  paused: boolean
  /** Paused while units it had already started still run to their end. */
  draining: boolean
  /** Null when the node has no schedule (always open). */
  schedule: ScheduleState | null
  /**
   * Why it is paused: `user` (ffmesh pause on this node), `peer` (ffmesh pause --node from another
   * node; `pausedFrom` says which), `schedule`, or null when not. A pause is kept across restarts.
   */
  pausedBy: 'user' | 'peer' | 'schedule' | null
  /** The peer id of the node that paused it, for `pausedBy: 'peer'`; else null. */
  pausedFrom: string | null
  /** Units running on this node's worker now (its own jobs' and other owners'). */
  running: number
}

/** One unit a node is working on, for any owner. */
export interface ConvertingUnit {
  jobId: string
  index: number
  /** The owner's peer id (this node's own for its own jobs). */
  owner: string
  phase: 'fetching' | 'converting' | 'returning'
  progress: number
}

export interface MeshNodeStatus {
  id: string
  name: string
  self: boolean
  /** Heard recently; false = away (lastSeen says since when). */
  online: boolean
  lastSeen: number
  version: string
  slotsTotal: number
  slotsFree: number
  encoders: string[]
  diskFree: number
  diskFull: boolean
  paused: boolean
  draining: boolean
  schedule: ScheduleState | null
  /** What it said last if it did not answer now (away); empty if it never answered. */
  converting: ConvertingUnit[]
}

/**
 * How many jobs the mesh holds in each state: each node counts the jobs it owns, so a job handed
 * from one node to another counts once. A listing of the mesh's jobs stops at its limit; these
 * counts do not.
 */
export interface MeshJobCounts {
  total: number
  byState: Record<JobState, number>
  /**
   * Nodes whose jobs are not in the counts: they did not answer and never counted here before
   * (an older version cannot), by name, else by peer id.
   */
  uncounted: string[]
}

export interface MeshJobStatus extends JobStatus {
  ownerName: string
  /** The owner did not answer: this is its last state heard (at `heardAt`). */
  ownerAway: boolean
  heardAt: number
}

// Wire schemas for the status stream protocol. Every bound says what it stops: a peer's reply is
// data from the network like any other and is checked before use.

const peerId = z.string().min(40).max(80).regex(/^[1-9A-HJ-NP-Za-km-z]+$/, 'a base58 peer id')
/** Error and waiting texts are cut to this before they are sent. */
export const MAX_STATUS_TEXT = 500
const text = z.string().max(MAX_STATUS_TEXT)
const time = z.number().int().min(0).max(2 ** 53)

export const UnitTrySchema = z.strictObject({
  worker: peerId,
  attempt: z.number().int().min(0).max(100_000),
  leasedAt: time,
  convertingAt: time.nullable(),
  endedAt: time.nullable(),
  outcome: z.enum(['verified', 'released']).nullable()
}) satisfies z.ZodType<UnitTry>

export const UnitStatusSchema = z.strictObject({
  index: UnitIndexSchema,
  kind: z.enum(['segment', 'audio', 'whole']),
  state: z.enum(UnitStates),
  worker: peerId.nullable(),
  attempts: z.number().int().min(0).max(100_000),
  progress: z.number().min(0).max(1),
  durationSec: z.number().min(0).max(1e6),
  /** Optional: an owner of an earlier version keeps no tries. */
  tries: z.array(UnitTrySchema).max(MAX_UNIT_TRIES).optional()
})

const errorBody = z.strictObject({
  code: z.enum(Object.values(ErrorCodes) as [ErrorCode, ...ErrorCode[]]),
  message: text
})
const bytes = z.number().int().min(0).max(2 ** 53)

/** A job as its owner tells it: `units` may be the first of `unitCount` (the rest come in pages). */
export const WireJobSchema = z.strictObject({
  id: JobIdSchema,
  state: z.enum(JobStates),
  profile: z.string().min(1).max(MAX_NAME_LENGTH),
  source: z.string().max(4096),
  output: z.string().max(4096).nullable(),
  error: errorBody.nullable(),
  units: z.array(UnitStatusSchema).max(MAX_UNITS_PER_JOB),
  unitCount: z.number().int().min(0).max(MAX_UNITS_PER_JOB),
  owner: peerId,
  createdAt: time,
  updatedAt: time,
  waiting: text.nullable(),
  progress: z.number().min(0).max(1),
  // Optional, so owners of an earlier version still validate.
  attention: text.nullable().optional(),
  reason: errorBody.nullable().optional(),
  bytesIn: bytes.optional(),
  bytesOut: bytes.nullable().optional()
})
export type WireJob = z.infer<typeof WireJobSchema>

export const ScheduleStateSchema = z.strictObject({
  open: z.boolean(),
  next: time.nullable()
}) satisfies z.ZodType<ScheduleState>

export const ConvertingUnitSchema = z.strictObject({
  jobId: JobIdSchema,
  index: UnitIndexSchema,
  owner: peerId,
  phase: z.enum(['fetching', 'converting', 'returning']),
  progress: z.number().min(0).max(1)
})

/** Units one node can be working on at once: its slots (at most 256) plus what it prefetches. */
export const MAX_CONVERTING_UNITS = 512

export const NodeReportSchema = z.strictObject({
  paused: z.boolean(),
  draining: z.boolean(),
  schedule: ScheduleStateSchema.nullable(),
  pausedBy: z.enum(['user', 'peer', 'schedule']).nullable(),
  pausedFrom: peerId.nullable(),
  running: z.number().int().min(0).max(MAX_CONVERTING_UNITS),
  converting: z.array(ConvertingUnitSchema).max(MAX_CONVERTING_UNITS)
})
export type NodeReport = z.infer<typeof NodeReportSchema>

/** A node's owned jobs in each state, every state named. */
export const JobCountsSchema = z.strictObject(
  Object.fromEntries(JobStates.map(s => [s, z.number().int().min(0).max(2 ** 32)])) as Record<JobState, z.ZodNumber>
)

/** Jobs one status page may carry, whatever their size; the frame limit bounds the bytes. */
export const MAX_STATUS_PAGE_JOBS = 200

/**
 * Requests on the status protocol, several per stream, each answered by one frame:
 * `jobs`: this node's owned jobs, newest first, those older than `before` (a job id: the cursor);
 * `units`: a job's units from `from` on (a job too large for one frame comes in pages);
 * `job`: one owned job; `counts`: how many jobs it owns in each state; `node`: what its worker is
 * doing and whether it is paused; `pause` and `resume`: another member steering this node's worker
 * (answered like `node`). A node of an older version refuses a type it does not know (BAD_REQUEST).
 */
export const StatusRequestSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('jobs'),
    before: JobIdSchema.nullable(),
    limit: z.number().int().min(1).max(MAX_STATUS_PAGE_JOBS),
    state: z.enum(JobStates).nullable()
  }),
  z.strictObject({ type: z.literal('units'), id: JobIdSchema, from: UnitIndexSchema }),
  z.strictObject({ type: z.literal('job'), id: JobIdSchema }),
  z.strictObject({ type: z.literal('counts') }),
  z.strictObject({ type: z.literal('node') }),
  /** Remote control: pause or resume this node's worker (mesh.remoteControl; never undoes a local pause). */
  z.strictObject({ type: z.literal('pause'), drain: z.boolean() }),
  z.strictObject({ type: z.literal('resume') })
])
export type StatusRequest = z.infer<typeof StatusRequestSchema>

export const StatusReplySchema = z.union([
  z.strictObject({
    ok: z.literal(true),
    type: z.literal('jobs'),
    jobs: z.array(WireJobSchema).max(MAX_STATUS_PAGE_JOBS),
    next: JobIdSchema.nullable()
  }),
  z.strictObject({
    ok: z.literal(true),
    type: z.literal('units'),
    units: z.array(UnitStatusSchema).max(MAX_UNITS_PER_JOB),
    next: UnitIndexSchema.nullable()
  }),
  z.strictObject({ ok: z.literal(true), type: z.literal('job'), job: WireJobSchema }),
  z.strictObject({ ok: z.literal(true), type: z.literal('counts'), counts: JobCountsSchema }),
  z.strictObject({ ok: z.literal(true), type: z.enum(['node', 'pause', 'resume']), node: NodeReportSchema }),
  FailureFrameSchema
])
export type StatusReply = z.infer<typeof StatusReplySchema>
