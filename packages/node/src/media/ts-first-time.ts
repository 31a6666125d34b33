import { open } from 'node:fs/promises'

/**
 * The time of the first video packet of an MPEG-TS file, read from its first video PES header: a
 * few kilobytes read in place of an ffprobe, whose start alone costs about 0.1 CPU s (piece-tally.ts
 * asks twice for every cut job, on the owner's core before any unit is offered).
 */

const TS_PACKET = 188
const SYNC = 0x47
/** Bytes read: the first PES of a piece the cut wrote follows its PAT and PMT, well within this. */
const READ_BYTES = 64 * 1024
/** PES stream ids of video (ISO/IEC 13818-1: 1110 xxxx). */
const VIDEO_STREAM = 0xe0

/** The first video PES's presentation time in 90 kHz ticks; null when the file's first bytes hold none. */
export async function tsFirstVideoTicks (file: string): Promise<number | null> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(READ_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, 0)
    return firstVideoTicks(buffer.subarray(0, bytesRead))
  } finally {
    await handle.close()
  }
}

/** firstVideoTicks over bytes already read: TS packets from the first byte. */
export function firstVideoTicks (bytes: Buffer): number | null {
  for (let at = 0; at + TS_PACKET <= bytes.length; at += TS_PACKET) {
    if (bytes[at] !== SYNC) return null
    const startsUnit = ((bytes[at + 1] as number) & 0x40) !== 0
    const control = ((bytes[at + 3] as number) >> 4) & 0x3
    if (!startsUnit || (control & 0x1) === 0) continue
    const payload = at + 4 + ((control & 0x2) !== 0 ? 1 + (bytes[at + 4] as number) : 0)
    const ticks = pesTicks(bytes.subarray(payload, at + TS_PACKET))
    if (ticks !== undefined) return ticks
  }
  return null
}

/** A video PES header's PTS in ticks; null for a video PES without one; undefined for anything else. */
function pesTicks (pes: Buffer): number | null | undefined {
  if (pes.length < 14 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return undefined
  if (((pes[3] as number) & 0xf0) !== VIDEO_STREAM) return undefined
  // PTS_DTS_flags: 2 a PTS, 3 a PTS then a DTS; a DTS never comes alone.
  return ((pes[7] as number) & 0x80) !== 0 ? timestamp(pes, 9) : null
}

/** A PES timestamp: 33 bits in five bytes, split by marker bits (3, 15 and 15 bits). */
function timestamp (b: Buffer, at: number): number {
  const high = ((b[at] as number) >> 1) & 0x7
  const mid = (((b[at + 1] as number) << 8) | (b[at + 2] as number)) >> 1
  const low = (((b[at + 3] as number) << 8) | (b[at + 4] as number)) >> 1
  return high * 2 ** 30 + mid * 2 ** 15 + low
}
