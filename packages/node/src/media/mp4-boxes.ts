import type { FileHandle } from 'node:fs/promises'

/**
 * The ISO base media file format's boxes (ISO/IEC 14496-12; QuickTime's atoms are the same) as
 * mp4-index.ts reads them: box headers, the children of a container box, and the sample tables.
 * Every reader returns null where the bytes do not hold what the box claims: the caller then lets
 * ffmpeg read the file instead, so nothing here throws on a damaged file.
 */

export interface Box { type: string, start: number, end: number }

/**
 * A box header at `at`: `available` bytes of it are in `buf`, and it may span `room` bytes (to its
 * parent's end). Null when the header is cut short or its size does not fit.
 */
interface Header { type: string, headerBytes: number, size: number }

function header (buf: Buffer, at: number, available: number, room: number): Header | null {
  if (available < 8) return null
  let size = buf.readUInt32BE(at)
  let headerBytes = 8
  if (size === 1) {
    if (available < 16) return null
    size = Number(buf.readBigUInt64BE(at + 8))
    headerBytes = 16
  } else if (size === 0) {
    size = room
  }
  if (size < headerBytes || size > room) return null
  return { type: buf.toString('latin1', at + 4, at + 8), headerBytes, size }
}

/** The boxes directly inside `buf[start, end)`; null when one runs past the end. */
export function childBoxes (buf: Buffer, start: number, end: number): Box[] | null {
  const boxes: Box[] = []
  for (let at = start; at < end;) {
    const h = header(buf, at, end - at, end - at)
    if (h == null) return null
    boxes.push({ type: h.type, start: at + h.headerBytes, end: at + h.size })
    at += h.size
  }
  return boxes
}

/** The only box of this type among `boxes`; null when there is none or more than one. */
export function onlyOf (boxes: Box[], type: string): Box | null {
  const found = boxes.filter(b => b.type === type)
  return found.length === 1 ? (found[0] as Box) : null
}

/** Follows a path of only-children from `parent`. */
export function descend (buf: Buffer, parent: Box, path: string[]): Box | null {
  let box: Box | null = parent
  for (const type of path) box = box == null ? null : onlyOf(childBoxes(buf, box.start, box.end) ?? [], type)
  return box
}

/**
 * A file with more top-level boxes than this is not read (null): a plain MP4 has a handful (ftyp,
 * moov, mdat, free), a fragmented one a pair per fragment, and each costs a read.
 */
const MAX_TOP_LEVEL_BOXES = 1024

/** The top-level boxes of a file, in file positions, read header by header (media data is skipped, not read). */
export async function topLevelBoxes (file: FileHandle, fileSize: number): Promise<Box[] | null> {
  const boxes: Box[] = []
  const head = Buffer.alloc(16)
  for (let at = 0; at < fileSize;) {
    if (boxes.length >= MAX_TOP_LEVEL_BOXES) return null
    const { bytesRead } = await file.read(head, 0, 16, at)
    const h = header(head, 0, bytesRead, fileSize - at)
    if (h == null) return null
    boxes.push({ type: h.type, start: at + h.headerBytes, end: at + h.size })
    at += h.size
  }
  return boxes
}

/** A full box's version, and where its fields begin. */
function fullBox (buf: Buffer, box: Box): { version: number, at: number } | null {
  return box.end - box.start >= 4 ? { version: buf[box.start] as number, at: box.start + 4 } : null
}

/** A table of `count` entries of `width` bytes after a full box's entry count; null when it does not fit. */
function table (buf: Buffer, box: Box, skip: number, width: number): { count: number, at: number } | null {
  const full = fullBox(buf, box)
  if (full == null || full.at + skip + 4 > box.end) return null
  const count = buf.readUInt32BE(full.at + skip)
  const at = full.at + skip + 4
  return at + count * width <= box.end ? { count, at } : null
}

/** The time scale of a media header (mdhd) or a movie header (mvhd): ticks per second. */
export function timeScale (buf: Buffer, box: Box): number | null {
  const full = fullBox(buf, box)
  if (full == null) return null
  const at = full.at + (full.version === 1 ? 16 : 8)
  return at + 4 <= box.end ? buf.readUInt32BE(at) || null : null
}

/** A handler's type (hdlr): vide, soun, sbtl, text, subp, tmcd and so on. */
export function handlerType (buf: Buffer, box: Box): string | null {
  const full = fullBox(buf, box)
  return full != null && full.at + 8 <= box.end ? buf.toString('latin1', full.at + 4, full.at + 8) : null
}

/** How many sample descriptions (stsd) a track has. */
export function descriptionCount (buf: Buffer, box: Box): number | null {
  return table(buf, box, 0, 0)?.count ?? null
}

/** Run-length pairs of unsigned 32-bit values: time-to-sample (stts) and composition offsets (ctts, signed). */
export function runs (buf: Buffer, box: Box, signed: boolean): Array<{ count: number, value: number }> | null {
  const t = table(buf, box, 0, 8)
  if (t == null) return null
  const out: Array<{ count: number, value: number }> = []
  for (let i = 0; i < t.count; i++) {
    const at = t.at + i * 8
    out.push({ count: buf.readUInt32BE(at), value: signed ? buf.readInt32BE(at + 4) : buf.readUInt32BE(at + 4) })
  }
  return out
}

/**
 * Sample sizes (stsz): one for every sample, or null where the box is not a table of them. One
 * size for all samples (uncompressed audio and video, which ffmpeg regroups) is null too: its
 * count is not bounded by the box, and a damaged one could ask for gigabytes.
 */
export function sampleSizes (buf: Buffer, box: Box): Uint32Array | null {
  const full = fullBox(buf, box)
  if (full == null || full.at + 8 > box.end) return null
  const fixed = buf.readUInt32BE(full.at)
  const count = buf.readUInt32BE(full.at + 4)
  if (fixed !== 0 || full.at + 8 + count * 4 > box.end) return null
  const sizes = new Uint32Array(count)
  for (let i = 0; i < count; i++) sizes[i] = buf.readUInt32BE(full.at + 8 + i * 4)
  return sizes
}

/** A sample-to-chunk run (stsc): from chunk `first` (1-based) on, `samples` per chunk, of description `description`. */
export interface ChunkRun { first: number, samples: number, description: number }

/** The sample-to-chunk runs of an stsc box. */
export function chunkRuns (buf: Buffer, box: Box): ChunkRun[] | null {
  const t = table(buf, box, 0, 12)
  if (t == null) return null
  const out = []
  for (let i = 0; i < t.count; i++) {
    const at = t.at + i * 12
    out.push({ first: buf.readUInt32BE(at), samples: buf.readUInt32BE(at + 4), description: buf.readUInt32BE(at + 8) })
  }
  return out
}

/** Chunk offsets, from stco (32-bit) or co64 (64-bit). */
export function chunkOffsets (buf: Buffer, box: Box, wide: boolean): number[] | null {
  const t = table(buf, box, 0, wide ? 8 : 4)
  if (t == null) return null
  const out: number[] = []
  for (let i = 0; i < t.count; i++) {
    out.push(wide ? Number(buf.readBigUInt64BE(t.at + i * 8)) : buf.readUInt32BE(t.at + i * 4))
  }
  return out
}

/** Sync samples (stss), 1-based. */
export function syncSamples (buf: Buffer, box: Box): number[] | null {
  const t = table(buf, box, 0, 4)
  if (t == null) return null
  return Array.from({ length: t.count }, (_, i) => buf.readUInt32BE(t.at + i * 4))
}

/**
 * An edit list (elst): each edit's length in the movie's time scale, its start in the media's
 * (-1: an empty edit), its rate.
 */
export function edits (buf: Buffer, box: Box): Array<{ duration: number, mediaTime: number, rate: number }> | null {
  const full = fullBox(buf, box)
  if (full == null) return null
  const width = full.version === 1 ? 20 : 12
  const t = table(buf, box, 0, width)
  if (t == null) return null
  const out = []
  for (let i = 0; i < t.count; i++) {
    const at = t.at + i * width
    out.push(
      full.version === 1
        ? {
            duration: Number(buf.readBigUInt64BE(at)),
            mediaTime: Number(buf.readBigInt64BE(at + 8)),
            rate: buf.readInt32BE(at + 16)
          }
        : { duration: buf.readUInt32BE(at), mediaTime: buf.readInt32BE(at + 4), rate: buf.readInt32BE(at + 8) }
    )
  }
  return out
}
