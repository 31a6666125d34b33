import { describe, expect, it } from 'vitest'
import { decodeRecord, encodeRecord } from './record-codec.js'

describe('job log record codec', () => {
  const record = {
    seq: 12,
    jobId: '01JD0000000000000000000000',
    event: { type: 'unit:verified', index: 3, result: { hash: 'ab'.repeat(64) } }
  }

  it('round-trips a record, and still reads one written before records carried a checksum', () => {
    expect(decodeRecord(encodeRecord(record))).toEqual(record)
    expect(decodeRecord(JSON.stringify(record))).toEqual(record)
  })

  it('refuses a record altered on disk even when the result is still valid JSON', () => {
    const stored = encodeRecord(record)
    // One hex digit of the hash changed: the JSON parses, the checksum does not match.
    const altered = stored.replace('abab', 'abac')
    expect(() => JSON.parse(altered.slice(0, altered.indexOf('\u0000')))).not.toThrow()
    expect(() => decodeRecord(altered)).toThrow(/checksum/)
    // The separator itself damaged: the rest is not JSON.
    expect(() => decodeRecord(stored.replace('\u0000', 'x'))).toThrow()
  })
})
