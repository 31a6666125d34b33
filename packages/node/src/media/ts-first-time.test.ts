import { describe, expect, it } from 'vitest'
import { firstVideoTicks } from './ts-first-time.js'

/** A PES timestamp's five bytes (ISO/IEC 13818-1), with the '0010' prefix of a lone PTS. */
function pesTimestamp (ticks: number): number[] {
  const high = Math.floor(ticks / 2 ** 30) & 0x7
  const mid = Math.floor(ticks / 2 ** 15) & 0x7fff
  const low = ticks & 0x7fff
  return [0x21 | (high << 1), mid >> 7, ((mid & 0x7f) << 1) | 1, low >> 7, ((low & 0x7f) << 1) | 1]
}

/** One 188-byte TS packet that starts a PES of `streamId`, with or without an adaptation field. */
function tsPacket (streamId: number, pts: number | null, adaptation = 0): Buffer {
  const packet = Buffer.alloc(188, 0xff)
  packet.set([0x47, 0x41, 0x00, adaptation > 0 ? 0x30 : 0x10])
  let at = 4
  if (adaptation > 0) { packet[at] = adaptation; at += 1 + adaptation }
  const header = pts == null ? [0x80, 0x00, 0x00] : [0x80, 0x80, 0x05, ...pesTimestamp(pts)]
  packet.set([0x00, 0x00, 0x01, streamId, 0x00, 0x00, ...header], at)
  return packet
}

describe('firstVideoTicks', () => {
  it('reads the first video PES\'s 33-bit PTS, past an adaptation field and a PES of another stream', () => {
    const audio = tsPacket(0xc0, 5000)
    expect(firstVideoTicks(Buffer.concat([audio, tsPacket(0xe0, 126000)]))).toBe(126000)
    expect(firstVideoTicks(tsPacket(0xe0, 2 ** 33 - 1000, 7))).toBe(2 ** 33 - 1000)
  })

  it('gives null for a video PES without a PTS and for bytes that are not TS', () => {
    expect(firstVideoTicks(tsPacket(0xe0, null))).toBeNull()
    expect(firstVideoTicks(Buffer.alloc(376, 0x00))).toBeNull()
  })
})
