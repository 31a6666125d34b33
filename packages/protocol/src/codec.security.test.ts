import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeGossip, encodeGossip, GOSSIP_MAX_AGE_MS } from './codec.js'
import { MAX_GOSSIP_MESSAGE_BYTES, MAX_STREAM_FRAME_BYTES } from './limits.js'
import { PROTOCOL_VERSION, type GossipMessage } from './messages.js'
import { DEFAULT_PROFILES } from './profiles.js'
import {
  AckSchema,
  BlobRequestSchema,
  BlobResponseSchema,
  decodeFrameBody,
  decodeFrameLength,
  encodeFrame,
  FRAME_PREFIX_BYTES,
  ResultPushSchema
} from './streams.js'
import { paced } from '../../../test/helpers/pace.js'

/**
 * Hostile input for the wire decoders: each decoder family sees more than 100,000
 * generated inputs. Nothing may throw, every malformed input must be refused, and the heap must
 * come back to where it was.
 */
const GOSSIP_RUNS = {
  bytes: 30_000,
  truncated: 20_000,
  wrongTypes: 15_000,
  mutated: 25_000,
  extra: 10_000,
  huge: 2_000
}
const FRAME_RUNS = {
  prefix: 20_000,
  bytes: 25_000,
  truncated: 20_000,
  wrongTypes: 15_000,
  mutated: 20_000,
  huge: 2_000
}
/** Heap left after a full fuzz run and a forced GC; the decoders keep no state, so this is slack for V8 only. */
const MAX_HEAP_GROWTH_BYTES = 32 * 1024 * 1024

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const NOW = 1_800_000_000_000
const hash = 'ab'.repeat(64)
const jobId = '01JD4Y5N3ZQ7X8W9V0T1S2R3P4'
const peer = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'
const profile = DEFAULT_PROFILES[0]
const env = { v: PROTOCOL_VERSION, ts: NOW }
const unitRef = { jobId, index: 3, attempt: 1 }

/** One valid message of every gossip type. */
const VALID: GossipMessage[] = [
  {
    ...env,
    type: 'capacity',
    name: 'n',
    version: '1',
    slotsTotal: 2,
    slotsFree: 1,
    encoders: ['libx264'],
    diskFree: 10,
    queue: 0
  },
  {
    ...env,
    type: 'offer',
    attempt: 1,
    unit: {
      jobId,
      index: 0,
      kind: 'segment',
      inputs: [{ hash, size: 10 }],
      preRoll: false,
      range: { start: 0, end: 2 },
      durationSec: 2,
      inputFormat: 'mpegts',
      profile
    },
    expectedOutputBytes: 100
  },
  { ...env, type: 'claim', owner: peer, ...unitRef },
  { ...env, type: 'grant', ...unitRef, worker: peer, leaseMs: 60_000 },
  { ...env, type: 'heartbeat', owner: peer, ...unitRef, phase: 'converting', progress: 0.5 },
  { ...env, type: 'reject', owner: peer, ...unitRef, code: 'DISK_FULL', message: 'full' },
  { ...env, type: 'revoke', ...unitRef, worker: peer },
  { ...env, type: 'handoff', to: peer, jobId, source: { hash, size: 10 }, profile },
  { ...env, type: 'handoff-accepted', origin: peer, jobId },
  {
    ...env,
    type: 'job-state',
    origin: peer,
    jobId,
    state: 'running',
    progress: 0.2,
    error: null,
    output: null,
    units: [{ index: 0, state: 'leased', worker: peer, attempts: 1 }]
  },
  { ...env, type: 'delivered', owner: peer, jobId }
] as GossipMessage[]

const VALID_FRAMES: Array<{ schema: Parameters<typeof decodeFrameBody>[0], value: Record<string, unknown> }> = [
  { schema: BlobRequestSchema, value: { hash, offset: 0 } },
  { schema: BlobResponseSchema, value: { ok: true, size: 10 } },
  { schema: BlobResponseSchema, value: { ok: false, code: 'NOT_FOUND', message: 'no' } },
  { schema: ResultPushSchema, value: { jobId, index: 1, hash, size: 10, frames: 50, durationSec: 2, attempt: 1 } },
  { schema: AckSchema, value: { ok: true } },
  { schema: AckSchema, value: { ok: false, code: 'BAD_REQUEST', message: 'no' } }
]

const text = new TextEncoder()
const bytesOf = (value: unknown): Uint8Array => text.encode(JSON.stringify(value))

/** A JSON value of another type than `value`, so replacing a field with it always breaks the schema. */
function otherType (value: unknown): fc.Arbitrary<unknown> {
  const pool: Array<fc.Arbitrary<unknown>> = []
  if (typeof value !== 'string') {
    pool.push(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('../x', '/etc/passwd', 'concat:x', '-x', 'file:x', 'http://x')
    )
  }
  // JSON has no NaN or Infinity: they would reach the wire as null, which nullable fields accept.
  if (typeof value !== 'number') {
    pool.push(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(2 ** 60, -1, 1e308))
  }
  if (typeof value !== 'boolean') pool.push(fc.boolean())
  if (value !== null) pool.push(fc.constant(null))
  if (!Array.isArray(value)) pool.push(fc.array(fc.integer(), { minLength: 1, maxLength: 3 }))
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    pool.push(fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }))
  }
  return fc.oneof(...pool)
}

/** A valid message with one top-level field removed, retyped, or the whole thing nested wrongly. */
function mutatedArb<T extends Record<string, unknown>> (samples: readonly T[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.constantFrom(...samples).chain(sample => {
    const keys = Object.keys(sample)
    const without = (key: string): Record<string, unknown> => {
      const c: Record<string, unknown> = { ...sample }
      delete c[key]
      return c
    }
    return fc.constantFrom(...keys).chain(key => fc.oneof(
      fc.constant(without(key)),
      otherType(sample[key]).map(v => ({ ...sample, [key]: v }))
    ))
  })
}

const extraFieldArb = <T extends Record<string, unknown>>(
  samples: readonly T[]
): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .tuple(fc.constantFrom(...samples), fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }))
    .filter(([s, k]) => !(k in s) && k !== '__proto__')
    .map(([s, k, v]) => ({ ...s, [k]: v }))

/** Nesting and sizes meant to exhaust a naive decoder: deep arrays, long strings, huge numbers. */
const hugeArb = fc.oneof(
  fc.integer({ min: 1_000, max: 200_000 }).map(n => text.encode('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 1_000, max: 60_000 }).map(n => text.encode('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
  fc
    .integer({ min: MAX_GOSSIP_MESSAGE_BYTES - 64, max: MAX_GOSSIP_MESSAGE_BYTES * 4 })
    .map(n => bytesOf({ ...VALID[0], name: 'x'.repeat(n) })),
  fc.constantFrom(...VALID).map(m => bytesOf({ ...m, ts: 1e308 })),
  fc.constantFrom(...VALID).map(m => bytesOf({ ...m, index: 2 ** 53, size: 2 ** 64 }))
)

function heapAfterGc (): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

describe('gossip decoder under hostile input', () => {
  const mustReject = (bytes: Uint8Array): void => {
    const r = decodeGossip(bytes, NOW)
    if (r.ok) throw new Error(`accepted a malformed message: ${new TextDecoder().decode(bytes).slice(-160)}`)
  }

  it('the valid samples pass, so every refusal below is the input\'s fault', () => {
    for (const m of VALID) expect(decodeGossip(encodeGossip(m), NOW)).toMatchObject({ ok: true })
    expect(decodeGossip(encodeGossip({ ...VALID[2], ts: NOW - GOSSIP_MAX_AGE_MS - 1 } as GossipMessage), NOW)).toEqual({
      ok: false,
      reason: 'too-old'
    })
  })

  it(
    `refuses ${Object.values(GOSSIP_RUNS).reduce((a, b) => a + b)} generated inputs without throwing, in bounded memory`,
    () => {
      const before = heapAfterGc()
      fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), mustReject), { numRuns: GOSSIP_RUNS.bytes })
      fc.assert(
        fc.property(
          fc.constantFrom(...VALID).chain(m => {
            const b = encodeGossip(m)
            return fc.integer({ min: 0, max: b.byteLength - 1 }).map(k => b.subarray(0, k))
          }),
          mustReject
        ),
        { numRuns: GOSSIP_RUNS.truncated }
      )
      // Any JSON value at all; the odd value that is by chance a valid message is impossible here
      // because the discriminant `type` is never generated with a known name.
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 4 }), v => mustReject(bytesOf(v))),
        { numRuns: GOSSIP_RUNS.wrongTypes }
      )
      // `units: null` is the one retyping that is legal (large jobs omit unit summaries).
      fc.assert(
        fc.property(
          mutatedArb(VALID as unknown as Array<Record<string, unknown>>).filter(
            v => !(v.type === 'job-state' && v.units === null)
          ),
          v => mustReject(bytesOf(v))
        ),
        { numRuns: GOSSIP_RUNS.mutated }
      )
      fc.assert(
        fc.property(extraFieldArb(VALID as unknown as Array<Record<string, unknown>>), v => mustReject(bytesOf(v))),
        { numRuns: GOSSIP_RUNS.extra }
      )
      fc.assert(fc.property(hugeArb, mustReject), { numRuns: GOSSIP_RUNS.huge })
      // Not valid UTF-8, and a valid message wrapped in a BOM or followed by junk.
      expect(decodeGossip(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), NOW)).toEqual({ ok: false, reason: 'not-utf8' })
      expect(decodeGossip(new Uint8Array([...encodeGossip(VALID[2]), 0x20, 0x78]), NOW)).toEqual({
        ok: false,
        reason: 'not-json'
      })
      expect(heapAfterGc() - before).toBeLessThan(MAX_HEAP_GROWTH_BYTES)
    },
    paced(60_000)
  )
})

describe('stream frame decoders under hostile input', () => {
  const mustReject = (schema: Parameters<typeof decodeFrameBody>[0], body: Uint8Array): void => {
    const r = decodeFrameBody(schema, body)
    if (r.ok) throw new Error(`accepted a malformed frame: ${new TextDecoder().decode(body).slice(-160)}`)
  }
  const schemas = fc.constantFrom(...VALID_FRAMES.map(f => f.schema))

  it('valid frames pass and round-trip through the length prefix', () => {
    for (const f of VALID_FRAMES) {
      const framed = encodeFrame(f.value)
      const len = decodeFrameLength(framed.subarray(0, FRAME_PREFIX_BYTES))
      expect(len).toEqual({ ok: true, length: framed.byteLength - FRAME_PREFIX_BYTES })
      expect(decodeFrameBody(f.schema, framed.subarray(FRAME_PREFIX_BYTES))).toMatchObject({ ok: true })
    }
  })

  it(
    `refuses ${Object.values(FRAME_RUNS).reduce((a, b) => a + b)} generated frames without throwing, in bounded memory`,
    () => {
      const before = heapAfterGc()
      // Any declared length: over the limit is refused before a body byte is buffered.
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 4, maxLength: 8 }), prefix => {
          const declared = new DataView(prefix.buffer, prefix.byteOffset).getUint32(0)
          const r = decodeFrameLength(prefix)
          expect(r.ok).toBe(declared <= MAX_STREAM_FRAME_BYTES)
        }),
        { numRuns: FRAME_RUNS.prefix }
      )
      expect(() => decodeFrameLength(new Uint8Array(3))).toThrow(RangeError)
      fc.assert(fc.property(schemas, fc.uint8Array({ maxLength: 600 }), mustReject), { numRuns: FRAME_RUNS.bytes })
      fc.assert(
        fc.property(
          fc.constantFrom(...VALID_FRAMES).chain(f => {
            const b = bytesOf(f.value)
            return fc
              .integer({ min: 0, max: b.byteLength - 1 })
              .map(k => ({ schema: f.schema, body: b.subarray(0, k) }))
          }),
          ({ schema, body }) => mustReject(schema, body)
        ),
        { numRuns: FRAME_RUNS.truncated }
      )
      fc.assert(
        fc.property(
          schemas,
          fc.jsonValue({ maxDepth: 4 }).filter(v => !isAcceptableByChance(v)),
          (schema, v) => mustReject(schema, bytesOf(v))
        ),
        { numRuns: FRAME_RUNS.wrongTypes }
      )
      fc.assert(
        fc.property(
          fc.constantFrom(...VALID_FRAMES).chain(f =>
            fc
              .oneof(
                mutatedArb([f.value]).filter(
                  v => !(f.schema === AckSchema && v.ok === true && Object.keys(v).length === 1)
                ),
                extraFieldArb([f.value])
              )
              .map(v => ({ schema: f.schema, v }))
          ),
          ({ schema, v }) => mustReject(schema, bytesOf(v))
        ),
        { numRuns: FRAME_RUNS.mutated }
      )
      fc.assert(fc.property(schemas, hugeArb, mustReject), { numRuns: FRAME_RUNS.huge })
      expect(decodeFrameBody(AckSchema, new Uint8Array(MAX_STREAM_FRAME_BYTES + 1))).toEqual({
        ok: false,
        reason: 'too-large'
      })
      expect(heapAfterGc() - before).toBeLessThan(MAX_HEAP_GROWTH_BYTES)
    },
    paced(60_000)
  )

  it('maps an unknown wire error code to GENERIC instead of passing it on', () => {
    expect(decodeFrameBody(AckSchema, bytesOf({ ok: false, code: '../../etc', message: 'x' }))).toEqual({
      ok: true,
      value: { ok: false, code: 'GENERIC', message: 'x' }
    })
  })
})

/** `{ "ok": true }` is a whole valid ack; generated JSON hits it rarely, but it is not malformed. */
function isAcceptableByChance (v: unknown): boolean {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    (v as { ok?: unknown }).ok === true &&
    Object.keys(v).length === 1
  )
}
