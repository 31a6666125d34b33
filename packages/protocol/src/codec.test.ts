import { describe, expect, it } from 'vitest'
import { decodeGossip, encodeGossip, GOSSIP_MAX_AGE_MS, GOSSIP_MAX_FUTURE_MS } from './codec.js'
import { MAX_GOSSIP_MESSAGE_BYTES } from './limits.js'
import type { GossipMessage } from './messages.js'

const NOW = 1_800_000_000_000
const OWNER = '12D3KooWGzh4T3bH1Uq5YqwUoVYtNRx2fC1Z4S8DkCJx7pSv9oNc'
const claim: GossipMessage = {
  v: 1,
  ts: NOW,
  type: 'claim',
  owner: OWNER,
  jobId: '01JD0000000000000000000000',
  index: 3,
  attempt: 1
}
const capacity: GossipMessage = {
  v: 1,
  ts: NOW,
  type: 'capacity',
  name: 'box',
  version: '0.1.0',
  slotsTotal: 2,
  slotsFree: 1,
  encoders: ['libx264'],
  diskFree: 1e9,
  queue: 0
}
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('gossip codec', () => {
  it('round-trips valid messages', () => {
    // An advert without diskFull is an older peer's; it validates as one with it does.
    for (const m of [claim, capacity, { ...capacity, diskFull: true }]) {
      expect(decodeGossip(encodeGossip(m), NOW)).toEqual({ ok: true, message: m })
    }
  })

  it('refuses oversized input before parsing it', () => {
    const big = new Uint8Array(MAX_GOSSIP_MESSAGE_BYTES + 1).fill(0x20)
    expect(decodeGossip(big, NOW)).toEqual({ ok: false, reason: 'too-large' })
  })

  it('refuses truncated, non-JSON and non-UTF-8 input', () => {
    const full = encodeGossip(claim)
    expect(decodeGossip(full.subarray(0, full.length - 3), NOW)).toEqual({ ok: false, reason: 'not-json' })
    expect(decodeGossip(bytes('not json'), NOW)).toEqual({ ok: false, reason: 'not-json' })
    expect(decodeGossip(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), NOW)).toEqual({ ok: false, reason: 'not-utf8' })
    expect(decodeGossip(new Uint8Array(0), NOW)).toEqual({ ok: false, reason: 'not-json' })
  })

  it('refuses wrong types, extra fields, unknown types and deep nesting', () => {
    const cases: unknown[] = [
      { ...claim, index: '3' },
      { ...claim, extra: true },
      { ...claim, type: 'steal' },
      { ...claim, owner: '../../etc/passwd' },
      { ...capacity, encoders: 'libx264' },
      { ...capacity, diskFull: 'yes' },
      null, 42, [claim]
    ]
    for (const c of cases) expect(decodeGossip(bytes(JSON.stringify(c)), NOW)).toEqual({ ok: false, reason: 'schema' })
    const deep = '['.repeat(30_000) + ']'.repeat(30_000)
    expect(decodeGossip(bytes(deep), NOW).ok).toBe(false)
  })

  it('refuses messages outside the replay window', () => {
    const old = { ...claim, ts: NOW - GOSSIP_MAX_AGE_MS - 1 }
    const future = { ...claim, ts: NOW + GOSSIP_MAX_FUTURE_MS + 1 }
    expect(decodeGossip(encodeGossip(old), NOW)).toEqual({ ok: false, reason: 'too-old' })
    expect(decodeGossip(encodeGossip(future), NOW)).toEqual({ ok: false, reason: 'from-future' })
    expect(decodeGossip(encodeGossip({ ...claim, ts: NOW - GOSSIP_MAX_AGE_MS + 1 }), NOW).ok).toBe(true)
  })
})
