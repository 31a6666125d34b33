/**
 * Gossip rate per signer, checked in the topic validator (a key holder must not be able
 * to flood the mesh). The busiest honest author is an owner with a large job: one offer per
 * pending unit that fits the mesh every REOFFER_MS (3 s) plus grants and revokes, and its worker's
 * heartbeats. A mesh of 50 nodes × 8 slots stays under 200 messages a second from one author, so
 * the sustained rate is set there and the burst allows a whole re-offer round at once.
 */
export const GOSSIP_MESSAGES_PER_SEC_PER_PEER = 200
export const GOSSIP_BURST_PER_PEER = 1_000
/** Signers tracked at once; the least recently seen is forgotten first (it starts again full). */
export const MAX_RATE_TRACKED_PEERS = 4_096

export interface RateLimiter {
  /** Takes one token for `peer`; false when the peer is over its rate. */
  take(peer: string): boolean
  readonly trackedPeers: number
}

/** A token bucket per peer; memory is bounded by MAX_RATE_TRACKED_PEERS. */
export function createRateLimiter (init: {
  clock: () => number
  perSec?: number
  burst?: number
  maxPeers?: number
}): RateLimiter {
  const perSec = init.perSec ?? GOSSIP_MESSAGES_PER_SEC_PER_PEER
  const burst = init.burst ?? GOSSIP_BURST_PER_PEER
  const maxPeers = init.maxPeers ?? MAX_RATE_TRACKED_PEERS
  // A Map iterates in insertion order: re-inserting on use keeps the stalest first.
  const buckets = new Map<string, { tokens: number; at: number }>()
  return {
    take (peer) {
      const now = init.clock()
      const b = buckets.get(peer) ?? { tokens: burst, at: now }
      buckets.delete(peer)
      b.tokens = Math.min(burst, b.tokens + (Math.max(0, now - b.at) * perSec) / 1000)
      b.at = now
      const ok = b.tokens >= 1
      if (ok) b.tokens -= 1
      buckets.set(peer, b)
      if (buckets.size > maxPeers) buckets.delete(buckets.keys().next().value as string)
      return ok
    },
    get trackedPeers () {
      return buckets.size
    }
  }
}
