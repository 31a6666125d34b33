import { open } from 'node:fs/promises'
import { checkCrc, children, ID, MatroskaDamage, readAt, readFloat, readHeader, readUint } from './matroska-ebml.js'

export { MatroskaDamage } from './matroska-ebml.js'

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

/**
 * One track's packets and the presentation times they span, in seconds, as ffmpeg's demuxer gives
 * them: a track's CodecDelay (Opus's pre-skip) moves its times earlier, and the end is the last
 * block's time plus its duration (its BlockDuration, else the track's DefaultDuration per frame,
 * else the track's shortest step between blocks: an audio track's frames all last as long).
 */
export interface TrackSpan {
  number: number
  /** Matroska's TrackType: 1 video, 2 audio, 0x11 subtitles. */
  type: number
  /** The track's CodecID (V_MPEG4/ISO/AVC, A_AAC, S_TEXT/UTF8 and so on). */
  codecId: string | null
  packets: number
  start: number | null
  end: number | null
  /** The end came from the step estimate: the block that ends the track has no duration written. */
  endEstimated: boolean
}

export interface MatroskaTally {
  /** The packets of the first video track, or of the first audio track when there is no video. */
  frames: number
  /** Segment Info's Duration in seconds, or null when the file does not say. */
  durationSec: number | null
  /** The smallest presentation time of that track's blocks, in seconds; null without blocks. */
  startSec: number | null
  /** Every track, in the order of the track list: the order in which ffmpeg's demuxer numbers its streams. */
  tracks: TrackSpan[]
  /** Segment Info's Title, or null. */
  title: string | null
  /** Whether the Segment holds chapters, and attachments (a cover picture, fonts). */
  hasChapters: boolean
  hasAttachments: boolean
}

export const TRACK_VIDEO = 1
export const TRACK_AUDIO = 2
export const TRACK_SUBTITLE = 0x11
/** Matroska's default: timestamps in milliseconds. */
const DEFAULT_TIMECODE_SCALE_NS = 1_000_000
/**
 * A level-1 element is read whole (to check its CRC). ffmpeg closes a cluster at 5 MB or 5 s and
 * other elements are small; a bigger one is left to ffprobe rather than held in memory.
 */
const MAX_ELEMENT_BYTES = 64 * 1024 * 1024
/** Enough for the EBML header and the Segment's own header. */
const HEAD_BYTES = 4096

/** A track as the track list gives it, and its blocks' times so far in ticks (see addBlock). */
interface Track {
  number: number
  type: number
  codecId: string | null
  defaultDurationNs: number | null
  codecDelayNs: number
  packets: number
  start: number | null
  /** The latest end of a block whose duration is known. */
  end: number | null
  /** The latest time of a block whose duration is not, and the shortest step between two blocks. */
  untimedLast: number | null
  previous: number | null
  step: number | null
}

function readTracks (data: Buffer): Track[] {
  const tracks: Track[] = []
  for (const entry of children(data, 'track list')) {
    if (entry.id !== ID.trackEntry) continue
    let number = 0
    let type = 0
    let codecId: string | null = null
    let defaultDurationNs: number | null = null
    let codecDelayNs = 0
    for (const field of children(entry.data, 'track entry')) {
      if (field.id === ID.trackNumber) number = readUint(field.data)
      else if (field.id === ID.trackType) type = readUint(field.data)
      else if (field.id === ID.codecId) codecId = field.data.toString('latin1')
      else if (field.id === ID.defaultDuration) defaultDurationNs = readUint(field.data)
      else if (field.id === ID.codecDelay) codecDelayNs = readUint(field.data)
    }
    tracks.push({
      number, type, codecId, defaultDurationNs, codecDelayNs,
      packets: 0, start: null, end: null, untimedLast: null, previous: null, step: null
    })
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

/** A cluster's blocks, each with its BlockDuration (in ticks) when its block group has one. */
interface ClusterBlock { block: Buffer, clusterTicks: number, durationTicks: number | null }

function * clusterBlocks (data: Buffer): Generator<ClusterBlock> {
  let clusterTicks: number | null = null
  for (const c of children(data, 'cluster')) {
    if (c.id === ID.clusterTimecode) clusterTicks = readUint(c.data)
    else if (c.id === ID.simpleBlock || c.id === ID.blockGroup) {
      if (clusterTicks == null) throw new MatroskaDamage('a block before its cluster\'s timestamp')
      if (c.id === ID.simpleBlock) {
        yield { block: c.data, clusterTicks, durationTicks: null }
        continue
      }
      let block: Buffer | null = null
      let durationTicks: number | null = null
      for (const g of children(c.data, 'block group')) {
        if (g.id === ID.block) block = g.data
        else if (g.id === ID.blockDuration) durationTicks = readUint(g.data)
      }
      if (block == null) throw new MatroskaDamage('a block group without a block')
      yield { block, clusterTicks, durationTicks }
    }
  }
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
    let title: string | null = null
    let tracks: Track[] | null = null
    let hasChapters = false
    let hasAttachments = false
    // Times are kept in ticks until the end: the Segment Info that gives the tick may come later.
    const addBlock = (data: Buffer, clusterTicks: number, blockTicks: number | null): void => {
      if (tracks == null) throw new MatroskaDamage('a cluster comes before the track list')
      const block = readBlock(data)
      const track = tracks.find(t => t.number === block.track)
      if (track == null) throw new MatroskaDamage(`a block of unknown track ${block.track}`)
      const ticks = clusterTicks + block.relative
      track.packets += block.frames
      track.start = track.start == null ? ticks : Math.min(track.start, ticks)
      const perFrame = track.defaultDurationNs != null ? track.defaultDurationNs / scaleNs : null
      const lasts = blockTicks ?? (perFrame != null ? block.frames * perFrame : null)
      if (lasts != null) track.end = Math.max(track.end ?? ticks + lasts, ticks + lasts)
      else track.untimedLast = Math.max(track.untimedLast ?? ticks, ticks)
      const step = track.previous != null ? Math.abs(ticks - track.previous) : 0
      if (step > 0) track.step = Math.min(track.step ?? step, step)
      track.previous = ticks
    }
    for (let at = start; at < end;) {
      options.signal?.throwIfAborted()
      const h = readHeader(await readAt(file, at, 12), 0)
      if (h == null) throw new MatroskaDamage(`no element header at byte ${at}`)
      if (h.size == null || h.size > MAX_ELEMENT_BYTES) return null
      if (at + h.headerBytes + h.size > end) throw new MatroskaDamage(`an element at byte ${at} runs past the Segment`)
      hasChapters ||= h.id === ID.chapters
      hasAttachments ||= h.id === ID.attachments
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
            else if (f.id === ID.title) title = f.data.toString('utf8')
          }
        } else if (h.id === ID.tracks) {
          tracks = readTracks(data)
        } else {
          for (const b of clusterBlocks(data)) addBlock(b.block, b.clusterTicks, b.durationTicks)
        }
      }
      at += h.headerBytes + h.size
    }
    const all = tracks ?? []
    const counted = all.find(t => t.type === TRACK_VIDEO) ?? all.find(t => t.type === TRACK_AUDIO)
    if (counted == null) throw new MatroskaDamage('the file has no video or audio track')
    const tick = scaleNs / 1e9
    const spans = all.map((t): TrackSpan => {
      const delay = t.codecDelayNs / 1e9
      const seconds = (ticks: number | null): number | null => ticks != null ? ticks * tick - delay : null
      const untimedEnd = t.untimedLast != null ? t.untimedLast + (t.step ?? 0) : null
      const end = t.end == null || untimedEnd == null ? (t.end ?? untimedEnd) : Math.max(t.end, untimedEnd)
      return {
        number: t.number,
        type: t.type,
        codecId: t.codecId,
        packets: t.packets,
        start: seconds(t.start),
        end: seconds(end),
        endEstimated: untimedEnd != null && (t.end == null || untimedEnd > t.end)
      }
    })
    const main = spans[all.indexOf(counted)] as TrackSpan
    return {
      frames: main.packets,
      durationSec: durationTicks != null ? durationTicks * tick : null,
      startSec: main.start,
      tracks: spans,
      title,
      hasChapters,
      hasAttachments
    }
  } finally {
    await file.close()
  }
}
