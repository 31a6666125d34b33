import { open, type FileHandle } from 'node:fs/promises'
import { crc32 } from 'node:zlib'

/**
 * A converted unit's frames, read from its Matroska structure in this process instead of an
 * ffprobe: the owner checks every result a worker returns, and a process start per unit on a core
 * that is encoding cost more than the read (bench/trace). The walk is stricter than ffprobe's
 * packet listing, which stops quietly where a file is cut short: every element must fit inside
 * its parent and the file must end where its Segment does, and every level-1 element that carries
 * a CRC-32 (ffmpeg writes one in each by default) must match it, so a flipped byte in a frame is
 * found too. Frames are counted as ffmpeg's demuxer makes packets: one per frame of a block,
 * laced blocks included.
 */

export interface MatroskaTally {
  /** The packets of the first video track, or of the first audio track when there is no video. */
  frames: number
  /** Segment Info's Duration in seconds, or null when the file does not say. */
  durationSec: number | null
  /** The smallest presentation time of that track's blocks, in seconds; null without blocks. */
  startSec: number | null
}

/** The file is Matroska but not whole or not sound: the worker's result is refused. */
export class MatroskaDamage extends Error {
  override readonly name = 'MatroskaDamage'
}

const ID = {
  ebml: 0x1a45dfa3,
  segment: 0x18538067,
  info: 0x1549a966,
  timecodeScale: 0x2ad7b1,
  duration: 0x4489,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  trackType: 0x83,
  flagDefault: 0x88,
  cluster: 0x1f43b675,
  clusterTimecode: 0xe7,
  simpleBlock: 0xa3,
  blockGroup: 0xa0,
  block: 0xa1,
  crc32: 0xbf
} as const

const TRACK_VIDEO = 1
const TRACK_AUDIO = 2
/** Matroska's default: timestamps in milliseconds. */
const DEFAULT_TIMECODE_SCALE_NS = 1_000_000
/**
 * A level-1 element is read whole (to check its CRC). ffmpeg closes a cluster at 5 MB or 5 s and
 * other elements are small; a bigger one is left to ffprobe rather than held in memory.
 */
const MAX_ELEMENT_BYTES = 64 * 1024 * 1024
/** Enough for the EBML header and the Segment's own header. */
const HEAD_BYTES = 4096

interface Header { id: number, size: number | null, headerBytes: number }

/** Reads an element header at `at`; null when the bytes end first. Size null: "unknown" (live streams). */
function readHeader (buf: Buffer, at: number): Header | null {
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

function readUint (buf: Buffer): number {
  let n = 0
  for (const b of buf) n = n * 256 + b
  return n
}

/** The children of an element's data, each with its data; throws where one overruns its parent. */
function * children (data: Buffer, where: string): Generator<{ id: number, data: Buffer }> {
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
function checkCrc (data: Buffer, where: string): void {
  const h = readHeader(data, 0)
  if (h?.id !== ID.crc32 || h.size !== 4) return
  const stored = data.readUInt32LE(h.headerBytes)
  if (crc32(data.subarray(h.headerBytes + 4)) !== stored) throw new MatroskaDamage(`the ${where}'s CRC-32 does not match`)
}

interface Track { number: number, type: number }

function readTracks (data: Buffer): Track[] {
  const tracks: Track[] = []
  for (const entry of children(data, 'track list')) {
    if (entry.id !== ID.trackEntry) continue
    let number = 0
    let type = 0
    for (const field of children(entry.data, 'track entry')) {
      if (field.id === ID.trackNumber) number = readUint(field.data)
      else if (field.id === ID.trackType) type = readUint(field.data)
    }
    tracks.push({ number, type })
  }
  return tracks
}

/** A block's track number (a vint), its time relative to the cluster, and its frames (lacing). */
function readBlock (data: Buffer): { track: number, relative: number, frames: number } {
  const lead = data[0]
  if (lead == null || lead === 0) throw new MatroskaDamage('a block without a track number')
  const length = Math.clz32(lead) - 23
  if (length > 4 || data.length < length + 3) throw new MatroskaDamage('a block shorter than its header')
  let track = lead & (0xff >> length)
  for (let i = 1; i < length; i++) track = track * 256 + (data[i] as number)
  const relative = data.readInt16BE(length)
  const flags = data[length + 2] as number
  // Bits 1-2: lacing; a laced block holds (next byte + 1) frames, each its own packet.
  const laced = (flags & 0x06) !== 0
  if (laced && data.length < length + 4) throw new MatroskaDamage('a laced block without its frame count')
  return { track, relative, frames: laced ? (data[length + 3] as number) + 1 : 1 }
}

function readFloat (data: Buffer): number {
  if (data.length === 4) return data.readFloatBE(0)
  if (data.length === 8) return data.readDoubleBE(0)
  throw new MatroskaDamage(`a ${data.length}-byte float`)
}

async function readAt (file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  const { bytesRead } = await file.read(buf, 0, length, position)
  return buf.subarray(0, bytesRead)
}

/**
 * Counts a Matroska file's frames. Null when it is not Matroska or not something this walk checks
 * (a Segment or element of unknown size, an element too big to hold): the caller asks ffprobe.
 * Throws MatroskaDamage when the file is Matroska but cut short or damaged.
 */
export async function tallyMatroska (
  path: string,
  options: { signal?: AbortSignal } = {}
): Promise<MatroskaTally | null> {
  const file = await open(path, 'r')
  try {
    const { size: fileSize } = await file.stat()
    const head = await readAt(file, 0, HEAD_BYTES)
    const ebml = readHeader(head, 0)
    if (ebml?.id !== ID.ebml || ebml.size == null) return null
    const segmentAt = ebml.headerBytes + ebml.size
    const segment = readHeader(head, segmentAt)
    if (segment?.id !== ID.segment || segment.size == null) return null
    const start = segmentAt + segment.headerBytes
    const end = start + segment.size
    if (end !== fileSize) {
      throw new MatroskaDamage(`the file is ${fileSize} bytes, its Segment says ${end}`)
    }
    let scaleNs = DEFAULT_TIMECODE_SCALE_NS
    let durationTicks: number | null = null
    let tracks: Track[] | null = null
    let counted: Track | undefined
    let frames = 0
    let minTicks: number | null = null
    const countBlock = (data: Buffer, clusterTicks: number): void => {
      if (tracks == null) throw new MatroskaDamage('a cluster comes before the track list')
      const block = readBlock(data)
      if (!tracks.some(t => t.number === block.track)) throw new MatroskaDamage(`a block of unknown track ${block.track}`)
      if (block.track !== counted?.number) return
      frames += block.frames
      const ticks = clusterTicks + block.relative
      if (minTicks == null || ticks < minTicks) minTicks = ticks
    }
    for (let at = start; at < end;) {
      options.signal?.throwIfAborted()
      const h = readHeader(await readAt(file, at, 12), 0)
      if (h == null) throw new MatroskaDamage(`no element header at byte ${at}`)
      if (h.size == null || h.size > MAX_ELEMENT_BYTES) return null
      if (at + h.headerBytes + h.size > end) throw new MatroskaDamage(`an element at byte ${at} runs past the Segment`)
      const wanted = h.id === ID.info || h.id === ID.tracks || h.id === ID.cluster
      if (wanted) {
        const data = await readAt(file, at + h.headerBytes, h.size)
        if (data.length !== h.size) throw new MatroskaDamage(`the file ends inside an element at byte ${at}`)
        const where = h.id === ID.cluster ? 'cluster' : h.id === ID.info ? 'segment info' : 'track list'
        checkCrc(data, where)
        if (h.id === ID.info) {
          for (const f of children(data, where)) {
            if (f.id === ID.timecodeScale) scaleNs = readUint(f.data)
            else if (f.id === ID.duration) durationTicks = readFloat(f.data)
          }
        } else if (h.id === ID.tracks) {
          tracks = readTracks(data)
          counted = tracks.find(t => t.type === TRACK_VIDEO) ?? tracks.find(t => t.type === TRACK_AUDIO)
        } else {
          let clusterTicks: number | null = null
          for (const c of children(data, where)) {
            if (c.id === ID.clusterTimecode) clusterTicks = readUint(c.data)
            else if (c.id === ID.simpleBlock || c.id === ID.blockGroup) {
              if (clusterTicks == null) throw new MatroskaDamage('a block before its cluster\'s timestamp')
              const block =
                c.id === ID.simpleBlock ? c.data : [...children(c.data, 'block group')].find(b => b.id === ID.block)?.data
              if (block == null) throw new MatroskaDamage('a block group without a block')
              countBlock(block, clusterTicks)
            }
          }
        }
      }
      at += h.headerBytes + h.size
    }
    if (counted == null) throw new MatroskaDamage('the file has no video or audio track')
    const tick = scaleNs / 1e9
    return {
      frames,
      durationSec: durationTicks != null ? durationTicks * tick : null,
      startSec: minTicks != null ? minTicks * tick : null
    }
  } finally {
    await file.close()
  }
}
