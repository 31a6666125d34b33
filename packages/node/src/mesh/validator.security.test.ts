import { CAPACITY_TOPIC, encodeGossip, JOBS_TOPIC, PROTOCOL_VERSION, type GossipMessage } from '@ffmesh/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Message } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { advertProblem, judgeGossip } from './gossip.js'
import {
  createRateLimiter,
  GOSSIP_BURST_PER_PEER,
  GOSSIP_MESSAGES_PER_SEC_PER_PEER,
  MAX_RATE_TRACKED_PEERS
} from './rate-limit.js'

/** The gossip validator's own checks beyond the codec: signer, rate, absurd adverts. */
const JUDGE_RUNS = 20_000

describe('the gossip validator', () => {
  it('refuses every fuzzed payload from a signed peer without throwing', async () => {
    const key = await generateKeyPair('Ed25519')
    const from = peerIdFromPrivateKey(key)
    const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const msg = (data: Uint8Array, topic: string): Message => ({
      type: 'signed',
      from,
      key: key.publicKey,
      data,
      topic,
      sequenceNumber: 1n,
      signature: new Uint8Array(64)
    })
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(JOBS_TOPIC, CAPACITY_TOPIC, 'other'),
        (data, topic) => {
          expect(judgeGossip(msg(data, topic), self, Date.now()).ok).toBe(false)
        }
      ),
      { numRuns: JUDGE_RUNS }
    )
    const advert: GossipMessage = {
      v: PROTOCOL_VERSION,
      ts: Date.now(),
      type: 'capacity',
      name: 'n',
      version: '1',
      slotsTotal: 2,
      slotsFree: 2,
      encoders: [],
      diskFree: 0,
      queue: 0
    }
    expect(judgeGossip(msg(encodeGossip(advert), CAPACITY_TOPIC), self, Date.now())).toMatchObject({ ok: true })
    expect(judgeGossip(msg(encodeGossip(advert), JOBS_TOPIC), self, Date.now())).toEqual({
      ok: false,
      reason: 'wrong-topic'
    })
    expect(judgeGossip(msg(encodeGossip({ ...advert, slotsFree: 3 }), CAPACITY_TOPIC), self, Date.now())).toEqual({
      ok: false,
      reason: 'absurd-capacity'
    })
    expect(judgeGossip(msg(encodeGossip(advert), CAPACITY_TOPIC), from.toString(), Date.now())).toEqual({
      ok: false,
      reason: 'claims-self'
    })
    // A key that is not the signer's.
    const other = await generateKeyPair('Ed25519')
    expect(
      judgeGossip({ ...msg(encodeGossip(advert), CAPACITY_TOPIC), key: other.publicKey } as Message, self, Date.now())
    ).toEqual({ ok: false, reason: 'wrong-signer' })
    expect(advertProblem({ ...advert, slotsFree: 0, slotsTotal: 0 })).toBeNull()
  })
})

describe('the per-author gossip rate limit', () => {
  it('allows the burst, then the sustained rate, per peer', () => {
    let now = 0
    const rate = createRateLimiter({ clock: () => now })
    let allowed = 0
    for (let i = 0; i < GOSSIP_BURST_PER_PEER * 3; i++) if (rate.take('flooder')) allowed++
    expect(allowed).toBe(GOSSIP_BURST_PER_PEER)
    // Another author is not affected by the flooder.
    expect(rate.take('honest')).toBe(true)
    now += 1000
    allowed = 0
    for (let i = 0; i < GOSSIP_BURST_PER_PEER; i++) if (rate.take('flooder')) allowed++
    expect(allowed).toBe(GOSSIP_MESSAGES_PER_SEC_PER_PEER)
    // A long pause refills to the burst, never beyond.
    now += 3_600_000
    allowed = 0
    for (let i = 0; i < GOSSIP_BURST_PER_PEER * 2; i++) if (rate.take('flooder')) allowed++
    expect(allowed).toBe(GOSSIP_BURST_PER_PEER)
  })

  it('tracks a bounded number of authors, forgetting the stalest', () => {
    let now = 0
    const rate = createRateLimiter({ clock: () => now, burst: 1, perSec: 0.001 })
    expect(rate.take('old')).toBe(true)
    expect(rate.take('old')).toBe(false)
    for (let i = 0; i < MAX_RATE_TRACKED_PEERS + 50; i++) { now++; rate.take(`p${i}`) }
    expect(rate.trackedPeers).toBe(MAX_RATE_TRACKED_PEERS)
    // Forgotten, so it starts again with a full bucket: memory is bounded, not the rate of a peer
    // that can make thousands of identities (each identity would still need the swarm key).
    expect(rate.take('old')).toBe(true)
  })
})
