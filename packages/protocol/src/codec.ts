import { MAX_GOSSIP_MESSAGE_BYTES } from './limits.js'
import { GossipMessageSchema, type GossipMessage } from './messages.js'

/**
 * Gossip is signed, but a signed message can still be replayed later by anyone who saw it; a
 * window on `ts` bounds that. Ten minutes covers clock skew on a LAN and gossipsub's own seen-cache
 * (two minutes) many times over; one minute into the future allows for skew only.
 */
export const GOSSIP_MAX_AGE_MS = 10 * 60_000
export const GOSSIP_MAX_FUTURE_MS = 60_000

export type GossipRejectReason = 'too-large' | 'not-utf8' | 'not-json' | 'schema' | 'too-old' | 'from-future'

export type DecodeGossipResult =
  | { ok: true, message: GossipMessage }
  | { ok: false, reason: GossipRejectReason }

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true })

export function encodeGossip (message: GossipMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message))
}

/** Cheap checks first: size, then UTF-8 and JSON, then the schema, then the replay window. */
export function decodeGossip (bytes: Uint8Array, now: number = Date.now()): DecodeGossipResult {
  if (bytes.byteLength > MAX_GOSSIP_MESSAGE_BYTES) return { ok: false, reason: 'too-large' }
  let text: string
  try {
    text = strictDecoder.decode(bytes)
  } catch {
    return { ok: false, reason: 'not-utf8' }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // Also catches RangeError from pathological nesting.
    return { ok: false, reason: 'not-json' }
  }
  const parsed = GossipMessageSchema.safeParse(value)
  if (!parsed.success) return { ok: false, reason: 'schema' }
  const message = parsed.data
  if (message.ts < now - GOSSIP_MAX_AGE_MS) return { ok: false, reason: 'too-old' }
  if (message.ts > now + GOSSIP_MAX_FUTURE_MS) return { ok: false, reason: 'from-future' }
  return { ok: true, message }
}
