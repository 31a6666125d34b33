import type { FileHandle } from 'node:fs/promises'
import { crc32 } from 'node:zlib'

/**
 * The EBML pieces the Matroska walk (matroska-tally.ts) reads: element headers, unsigned ints,
 * floats, children that must fit inside their parent, and a level-1 element's CRC-32.
 */

/** The file is Matroska but not whole or not sound: the worker's result is refused. */
export class MatroskaDamage extends Error {
  override readonly name = 'MatroskaDamage'
}

export interface Header { id: number, size: number | null, headerBytes: number }

/** Element IDs the walk reads (Matroska specification, RFC 9559). */
export const ID = {
  ebml: 0x1a45dfa3,
  segment: 0x18538067,
  info: 0x1549a966,
  timecodeScale: 0x2ad7b1,
  duration: 0x4489,
  title: 0x7ba9,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  trackType: 0x83,
  codecId: 0x86,
  defaultDuration: 0x23e383,
  codecDelay: 0x56aa,
  cluster: 0x1f43b675,
  chapters: 0x1043a770,
  attachments: 0x1941a469,
  clusterTimecode: 0xe7,
  simpleBlock: 0xa3,
  blockGroup: 0xa0,
  block: 0xa1,
  blockDuration: 0x9b,
  crc32: 0xbf
} as const

/** Reads an element header at `at`; null when the bytes end first. Size null: "unknown" (live streams). */
export function readHeader (buf: Buffer, at: number): Header | null {
  const first = buf[at]
  if (first == null || first === 0) return null
  const idLength = Math.clz32(first) - 23
  if (idLength > 4 || at + idLength > buf.length) return null
  let id = 0
  for (let i = 0; i < idLength; i++) id = id * 256 + (buf[at + i] as number)
  const sizeAt = at + idLength
  const lead = buf[sizeAt]
  if (lead == null || lead === 0) return null
  const sizeLength = Math.clz32(lead) - 23
  if (sizeAt + sizeLength > buf.length) return null
  let size = lead & (0xff >> sizeLength)
  let allOnes = size === 0xff >> sizeLength
  for (let i = 1; i < sizeLength; i++) {
    const b = buf[sizeAt + i] as number
    size = size * 256 + b
    allOnes &&= b === 0xff
  }
  return { id, size: allOnes ? null : size, headerBytes: idLength + sizeLength }
}

export function readUint (buf: Buffer): number {
  let n = 0
  for (const b of buf) n = n * 256 + b
  return n
}

export function readFloat (data: Buffer): number {
  if (data.length === 4) return data.readFloatBE(0)
  if (data.length === 8) return data.readDoubleBE(0)
  throw new MatroskaDamage(`a ${data.length}-byte float`)
}

/** The children of an element's data, each with its data; throws where one overruns its parent. */
export function * children (data: Buffer, where: string): Generator<{ id: number, data: Buffer }> {
  let at = 0
  while (at < data.length) {
    const h = readHeader(data, at)
    if (h == null || h.size == null || at + h.headerBytes + h.size > data.length) {
      throw new MatroskaDamage(`an element in the ${where} runs past its end at byte ${at}`)
    }
    yield { id: h.id, data: data.subarray(at + h.headerBytes, at + h.headerBytes + h.size) }
    at += h.headerBytes + h.size
  }
}

/** Checks a level-1 element's CRC-32 (its first child, over the rest of its data) when it has one. */
export function checkCrc (data: Buffer, where: string): void {
  const h = readHeader(data, 0)
  if (h?.id !== ID.crc32 || h.size !== 4) return
  const stored = data.readUInt32LE(h.headerBytes)
  if (crc32(data.subarray(h.headerBytes + 4)) !== stored) throw new MatroskaDamage(`the ${where}'s CRC-32 does not match`)
}

export async function readAt (file: FileHandle, position: number, length: number): Promise<Buffer> {
  // Not zeroed: only the bytes read are returned, and a walk reads every cluster of every result.
  const buf = Buffer.allocUnsafe(length)
  const { bytesRead } = await file.read(buf, 0, length, position)
  return buf.subarray(0, bytesRead)
}
