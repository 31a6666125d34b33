import { z } from 'zod'
import { ErrorCodes, WireErrorCodes } from './errors.js'
import { MAX_NAME_LENGTH, MAX_OFFER_CANDIDATES, MAX_UNITS_IN_JOB_STATE, MAX_WIRE_MESSAGE } from './limits.js'
import { ScheduleStateSchema } from './mesh-status.js'
import { ProfileSchema } from './profiles.js'
import { BlobRefSchema, JobIdSchema, JobStates, UnitIndexSchema, UnitSpecSchema, UnitStates } from './units.js'

/**
 * Gossip messages: announcements only, never bytes (those go over streams). Every message is
 * validated against these schemas before use; the sender is the gossip signer (StrictSign), so no
 * message names its own author. Messages addressed to one node carry that node's peer id.
 */
export const PROTOCOL_VERSION = 1

const peerIdSchema = z.string().min(40).max(80).regex(/^[1-9A-HJ-NP-Za-km-z]+$/, 'a base58 peer id')
const base = { v: z.literal(PROTOCOL_VERSION), ts: z.number().int().positive() }
const unitRef = { jobId: JobIdSchema, index: UnitIndexSchema, attempt: z.number().int().min(1).max(1000) }

export const CapacityAdvertSchema = z.strictObject({
  ...base,
  type: z.literal('capacity'),
  name: z.string().min(1).max(MAX_NAME_LENGTH),
  version: z.string().max(32),
  slotsTotal: z.number().int().min(0).max(256),
  slotsFree: z.number().int().min(0).max(256),
  encoders: z.array(z.string().regex(/^[a-z0-9_-]{1,32}$/)).max(64),
  diskFree: z.number().int().min(0).max(2 ** 53),
  queue: z.number().int().min(0).max(1_000_000),
  /** Below its own reserve (worker.minFreeDisk): offer it nothing. Optional, so older peers still validate. */
  diskFull: z.boolean().optional(),
  /** The worker takes no new units (`ffmesh pause`, or outside worker.schedule); owners skip it. */
  paused: z.boolean().optional(),
  /** Paused, and units it had started still run to their end. */
  draining: z.boolean().optional(),
  /** Its schedule window: open now or not, and when that changes; null or absent: no schedule. */
  schedule: ScheduleStateSchema.nullable().optional()
})

/** The owner offers a pending unit to the mesh. */
export const OfferSchema = z.strictObject({
  ...base,
  type: z.literal('offer'),
  attempt: unitRef.attempt,
  unit: UnitSpecSchema,
  /** Upper bound the owner expects for the output, so a worker can check its disk before claiming. */
  expectedOutputBytes: z.number().int().min(0).max(2 ** 53),
  /**
   * The workers invited to claim (those with most free slots, by their adverts), so claims per unit
   * stay bounded however large the mesh; absent or empty invites everyone.
   */
  candidates: z.array(peerIdSchema).max(MAX_OFFER_CANDIDATES).optional()
})

/** A worker with a free slot asks the owner for a unit. */
export const ClaimSchema = z.strictObject({ ...base, type: z.literal('claim'), owner: peerIdSchema, ...unitRef })

/** The owner alone grants a lease, to one claimant at a time. */
export const GrantSchema = z.strictObject({
  ...base,
  type: z.literal('grant'),
  ...unitRef,
  worker: peerIdSchema,
  leaseMs: z.number().int().min(1000).max(3_600_000)
})

/** The worker renews its lease and reports progress. */
export const HeartbeatSchema = z.strictObject({
  ...base,
  type: z.literal('heartbeat'),
  owner: peerIdSchema,
  ...unitRef,
  phase: z.enum(['fetching', 'converting', 'returning']),
  progress: z.number().min(0).max(1)
})

/** A worker refuses or gives back a unit; the reason is one of the closed set of wire codes. */
export const RejectSchema = z.strictObject({
  ...base,
  type: z.literal('reject'),
  owner: peerIdSchema,
  ...unitRef,
  code: z.enum(Object.values(WireErrorCodes) as [string, ...string[]]),
  message: z.string().max(MAX_WIRE_MESSAGE)
})

/**
 * The owner withdraws a lease (job cancelled, lease expired, unit already verified), or turns down
 * a claim for that attempt (the unit went to another worker), so the claimant's room frees at once.
 */
export const RevokeSchema = z.strictObject({ ...base, type: z.literal('revoke'), ...unitRef, worker: peerIdSchema })

/**
 * Submit and walk away: the submitter asks one peer (`to`) to own a whole job. The peer fetches the
 * source over the blob protocol, verifies it, probes it itself, and answers `handoff-accepted`.
 */
export const HandoffSchema = z.strictObject({
  ...base,
  type: z.literal('handoff'),
  to: peerIdSchema,
  jobId: JobIdSchema,
  source: BlobRefSchema,
  profile: ProfileSchema
})

export const HandoffAcceptedSchema = z.strictObject({
  ...base,
  type: z.literal('handoff-accepted'),
  origin: peerIdSchema,
  jobId: JobIdSchema
})

/** The new owner tells the submitter how its job stands, on change and periodically until delivered. */
export const JobStateSchema = z.strictObject({
  ...base,
  type: z.literal('job-state'),
  origin: peerIdSchema,
  jobId: JobIdSchema,
  state: z.enum(JobStates),
  progress: z.number().min(0).max(1),
  error: z
    .strictObject({
      code: z.enum(Object.values(ErrorCodes) as [string, ...string[]]),
      message: z.string().max(MAX_WIRE_MESSAGE)
    })
    .nullable(),
  /** The verified output, to fetch over the blob protocol once `done`. */
  output: BlobRefSchema.nullable(),
  /** Unit summaries for `ffmesh status` on the submitter; omitted for very large jobs. */
  units: z
    .array(
      z.strictObject({
        index: UnitIndexSchema,
        state: z.enum(UnitStates),
        worker: peerIdSchema.nullable(),
        attempts: z.number().int().min(0).max(1000)
      })
    )
    .max(MAX_UNITS_IN_JOB_STATE)
    .nullable()
})

/** The submitter has the output in place: the owner may drop its copy. */
export const DeliveredSchema = z.strictObject({
  ...base,
  type: z.literal('delivered'),
  owner: peerIdSchema,
  jobId: JobIdSchema
})

export const GossipMessageSchema = z.discriminatedUnion('type', [
  CapacityAdvertSchema, OfferSchema, ClaimSchema, GrantSchema, HeartbeatSchema, RejectSchema, RevokeSchema,
  HandoffSchema, HandoffAcceptedSchema, JobStateSchema, DeliveredSchema
])

export type Handoff = z.infer<typeof HandoffSchema>
export type HandoffAccepted = z.infer<typeof HandoffAcceptedSchema>
export type JobStateMessage = z.infer<typeof JobStateSchema>
export type Delivered = z.infer<typeof DeliveredSchema>

export type CapacityAdvert = z.infer<typeof CapacityAdvertSchema>
export type Offer = z.infer<typeof OfferSchema>
export type Claim = z.infer<typeof ClaimSchema>
export type Grant = z.infer<typeof GrantSchema>
export type Heartbeat = z.infer<typeof HeartbeatSchema>
export type Reject = z.infer<typeof RejectSchema>
export type Revoke = z.infer<typeof RevokeSchema>
export type GossipMessage = z.infer<typeof GossipMessageSchema>

/** Distributive Omit, so callers can build a message without the envelope fields. */
export type MessageBody<T> = T extends unknown ? Omit<T, 'v' | 'ts'> : never
