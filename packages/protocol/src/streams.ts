import { z } from 'zod'
import { toWireErrorCode, type WireErrorCode } from './errors.js'
import { MAX_STREAM_FRAME_BYTES, MAX_WHOLE_UNIT_BYTES, MAX_WIRE_MESSAGE } from './limits.js'
import { HashSchema, UnitResultSchema } from './units.js'

/**
 * Stream protocols and gossip topics. The version is in every name so a node can speak two
 * versions side by side during an upgrade.
 */
export const BLOB_PROTOCOL = '/ffmesh/blob/1.0.0'
export const RESULT_PROTOCOL = '/ffmesh/result/1.0.0'
/** Request/response: a node's owned jobs (paged), one job, and what its worker is doing. */
export const STATUS_PROTOCOL = '/ffmesh/status/1.0.0'
export const JOBS_TOPIC = 'ffmesh/1/jobs'
export const CAPACITY_TOPIC = 'ffmesh/1/capacity'

/** Control frames are a 4-byte big-endian length, then that many bytes of UTF-8 JSON. */
export const FRAME_PREFIX_BYTES = 4

const wireCode = z.string().max(64).transform((code): WireErrorCode => toWireErrorCode(code))
/** A refusal on any stream protocol: a closed wire code and a short text. */
export const FailureFrameSchema = z.strictObject({
  ok: z.literal(false),
  code: wireCode,
  message: z.string().max(MAX_WIRE_MESSAGE)
})
const failure = FailureFrameSchema

/** The worker asks for a blob from `offset` on (non-zero when resuming a broken transfer). */
export const BlobRequestSchema = z.strictObject({
  hash: HashSchema,
  offset: z.number().int().min(0).max(MAX_WHOLE_UNIT_BYTES)
})

/** `size` is the whole blob; the bytes from the requested offset to `size` follow the frame. */
export const BlobResponseSchema = z.union([
  z.strictObject({ ok: z.literal(true), size: z.number().int().min(0).max(MAX_WHOLE_UNIT_BYTES) }),
  failure
])

/** The result push header; `size` bytes of output follow it. */
export const ResultPushSchema = UnitResultSchema.extend({ attempt: z.number().int().min(1).max(1000) })

export const AckSchema = z.union([z.strictObject({ ok: z.literal(true) }), failure])

export type BlobRequest = z.infer<typeof BlobRequestSchema>
export type BlobResponse = z.infer<typeof BlobResponseSchema>
export type ResultPushFrame = z.infer<typeof ResultPushSchema>
export type AckFrame = z.infer<typeof AckSchema>

export type FrameRejectReason = 'too-large' | 'not-utf8' | 'not-json' | 'schema'

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true })

export function encodeFrame (value: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(value))
  if (body.byteLength > MAX_STREAM_FRAME_BYTES) {
    throw new RangeError(`frame of ${body.byteLength} bytes is over MAX_STREAM_FRAME_BYTES`)
  }
  const out = new Uint8Array(FRAME_PREFIX_BYTES + body.byteLength)
  new DataView(out.buffer).setUint32(0, body.byteLength)
  out.set(body, FRAME_PREFIX_BYTES)
  return out
}

/** Reads the length prefix; refuses before any body byte is buffered if it is over the limit. */
export function decodeFrameLength (
  prefix: Uint8Array
): { ok: true; length: number } | { ok: false; reason: 'too-large' } {
  if (prefix.byteLength < FRAME_PREFIX_BYTES) throw new RangeError('a frame prefix is 4 bytes')
  const length = new DataView(prefix.buffer, prefix.byteOffset, FRAME_PREFIX_BYTES).getUint32(0)
  return length > MAX_STREAM_FRAME_BYTES ? { ok: false, reason: 'too-large' } : { ok: true, length }
}

export function decodeFrameBody<S extends z.ZodType> (
  schema: S,
  body: Uint8Array
): { ok: true; value: z.infer<S> } | { ok: false; reason: FrameRejectReason } {
  if (body.byteLength > MAX_STREAM_FRAME_BYTES) return { ok: false, reason: 'too-large' }
  let value: unknown
  try {
    value = JSON.parse(strictDecoder.decode(body))
  } catch (err) {
    return { ok: false, reason: err instanceof TypeError ? 'not-utf8' : 'not-json' }
  }
  const parsed = schema.safeParse(value)
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: 'schema' }
}
