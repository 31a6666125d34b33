import { describe, expect, it } from 'vitest'
import { MAX_STREAM_FRAME_BYTES } from './limits.js'
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

const HASH = 'ab'.repeat(64)
const push = {
  jobId: '01JD0000000000000000000000',
  index: 0,
  hash: HASH,
  size: 10,
  frames: 5,
  durationSec: 0.2,
  attempt: 1
}
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const body = (frame: Uint8Array): Uint8Array => frame.subarray(FRAME_PREFIX_BYTES)

describe('stream frames', () => {
  it('round-trips each frame type through its length prefix', () => {
    for (const [schema, value] of [
      [BlobRequestSchema, { hash: HASH, offset: 1024 }],
      [BlobResponseSchema, { ok: true, size: 99 }],
      [BlobResponseSchema, { ok: false, code: 'NOT_FOUND', message: 'no' }],
      [ResultPushSchema, push],
      [AckSchema, { ok: true }]
    ] as const) {
      const frame = encodeFrame(value)
      expect(decodeFrameLength(frame)).toEqual({ ok: true, length: frame.length - FRAME_PREFIX_BYTES })
      expect(decodeFrameBody(schema, body(frame))).toEqual({ ok: true, value })
    }
  })

  it('maps unknown wire codes to GENERIC', () => {
    const decoded = decodeFrameBody(
      AckSchema,
      bytes(JSON.stringify({ ok: false, code: 'SELF_DESTRUCT', message: 'x' }))
    )
    expect(decoded).toEqual({ ok: true, value: { ok: false, code: 'GENERIC', message: 'x' } })
  })

  it('refuses huge declared lengths before reading a body', () => {
    const prefix = new Uint8Array(4)
    new DataView(prefix.buffer).setUint32(0, 0xffffffff)
    expect(decodeFrameLength(prefix)).toEqual({ ok: false, reason: 'too-large' })
    new DataView(prefix.buffer).setUint32(0, MAX_STREAM_FRAME_BYTES + 1)
    expect(decodeFrameLength(prefix)).toEqual({ ok: false, reason: 'too-large' })
    expect(() => encodeFrame({ pad: 'x'.repeat(MAX_STREAM_FRAME_BYTES) })).toThrow(RangeError)
  })

  it('refuses truncated, wrong-typed, extra-field and deeply nested bodies', () => {
    const frame = body(encodeFrame({ hash: HASH, offset: 0 }))
    expect(decodeFrameBody(BlobRequestSchema, frame.subarray(0, 10))).toEqual({ ok: false, reason: 'not-json' })
    expect(decodeFrameBody(BlobRequestSchema, bytes(JSON.stringify({ hash: HASH, offset: -1 })))).toEqual({
      ok: false,
      reason: 'schema'
    })
    expect(decodeFrameBody(BlobRequestSchema, bytes(JSON.stringify({ hash: HASH, offset: '0' })))).toEqual({
      ok: false,
      reason: 'schema'
    })
    expect(decodeFrameBody(BlobRequestSchema, bytes(JSON.stringify({ hash: '../x', offset: 0 })))).toEqual({
      ok: false,
      reason: 'schema'
    })
    expect(decodeFrameBody(ResultPushSchema, bytes(JSON.stringify({ ...push, path: '/etc/passwd' })))).toEqual({
      ok: false,
      reason: 'schema'
    })
    expect(decodeFrameBody(ResultPushSchema, bytes(JSON.stringify({ ...push, size: 2 ** 60 })))).toEqual({
      ok: false,
      reason: 'schema'
    })
    expect(decodeFrameBody(AckSchema, bytes(JSON.stringify({ ok: 'yes' })))).toEqual({ ok: false, reason: 'schema' })
    expect(decodeFrameBody(AckSchema, new Uint8Array([0xc3, 0x28]))).toEqual({ ok: false, reason: 'not-utf8' })
    const deep = bytes('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000))
    expect(decodeFrameBody(AckSchema, deep).ok).toBe(false)
    expect(decodeFrameBody(AckSchema, new Uint8Array(MAX_STREAM_FRAME_BYTES + 1))).toEqual({
      ok: false,
      reason: 'too-large'
    })
  })
})
