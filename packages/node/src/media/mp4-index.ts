import { open } from 'node:fs/promises'
import {
  chunkOffsets,
  chunkRuns,
  childBoxes,
  descend,
  descriptionCount,
  edits,
  handlerType,
  onlyOf,
  runs,
  sampleSizes,
  syncSamples,
  timeScale,
  topLevelBoxes,
  type Box,
  type ChunkRun
} from './mp4-boxes.js'
import { MPEG_CLOCK_WRAP_SEC, type PacketList, type StreamSpan } from './packet-list.js'
import type { MediaInfo, StreamType } from './probe.js'

/**
 * A whole-file plan's packet list (packet-list.ts) read from an MP4 or QuickTime file's sample
 * tables in this process, instead of a pass of ffmpeg over the file: a process start and a read of
 * the whole file, about 0.05 to 0.1 CPU s a file on the planning node's core, before a batch's
 * first units can be offered. The tables give what ffmpeg's demuxer reads (every sample a packet,
 * its decode time, its composition offset, its duration) only where they are plain; anywhere they
 * are not, this says null and the plan lists the packets with ffmpeg as before. Plain means:
 * not fragmented; each listed track with one sample description, a size for each sample and none
 * empty, no negative composition offset, every sample's bytes inside the file (a file cut short
 * keeps its whole index), and at most one edit, which only shifts the track's times (ffmpeg 5.1's
 * mov_fix_index drops or moves samples around an edit that starts anywhere else or ends early).
 * mp4-index.test.ts checks the result against ffmpeg's own list on files of each such shape.
 */

/** Formats this reads: ffprobe's name for the MP4 family (mov, mp4, m4a, 3gp, 3g2, mj2). */
const MP4_FAMILY = 'mov'
/**
 * A movie box larger than this is left to ffmpeg: a 3-hour film at 60 fps with a few audio tracks
 * holds about 15 MB of tables, and the arrays made from them take a few times that.
 */
const MAX_MOVIE_BYTES = 32 * 1024 * 1024
/** How the tracks' handlers show in ffprobe. */
const HANDLER_STREAM_TYPES: Record<string, StreamType> = {
  vide: 'video',
  soun: 'audio',
  sbtl: 'subtitle',
  subt: 'subtitle',
  text: 'subtitle'
}
/** Codecs whose samples ffmpeg regroups into packets of its own (PCM and ADPCM, raw video). */
const REGROUPED_CODEC = /^(pcm_|adpcm_|rawvideo$)/
/** An edit's rate of 1 (16.16 fixed point): played at speed. */
const RATE_ONE = 0x10000

/**
 * The packet list of `streams` as ffmpeg's demuxer would read it with source times kept, or null
 * where the file is not one this reads plainly (then list them with ffmpeg: scanPackets).
 */
export async function indexPackets (
  file: string,
  info: MediaInfo,
  streams: number[],
  options: { signal?: AbortSignal } = {}
): Promise<PacketList | null> {
  if (!info.formatName.split(',').includes(MP4_FAMILY)) return null
  // A file that cannot be opened now is the scan's to report, with the error it has for that.
  const handle = await open(file, 'r').catch(() => null)
  if (handle == null) return null
  try {
    const { size } = await handle.stat()
    const top = await topLevelBoxes(handle, size)
    const movies = top?.filter(b => b.type === 'moov') ?? []
    const movie = movies[0]
    if (movies.length !== 1 || movie == null || top?.some(b => b.type === 'moof') === true) return null
    if (movie.end - movie.start > MAX_MOVIE_BYTES) return null
    const buf = Buffer.allocUnsafe(movie.end - movie.start)
    const { bytesRead } = await handle.read(buf, 0, buf.length, movie.start)
    options.signal?.throwIfAborted()
    if (bytesRead !== buf.length) return null
    return readMovie(buf, size, info, streams)
  } finally {
    await handle.close()
  }
}

/** The packet list from a movie box's data (`buf`), or null. */
function readMovie (buf: Buffer, fileSize: number, info: MediaInfo, streams: number[]): PacketList | null {
  const parts = childBoxes(buf, 0, buf.length)
  // A fragmented movie (mvex) has samples outside these tables; a compressed one (cmov) is not read here.
  if (parts == null || parts.some(b => b.type === 'mvex' || b.type === 'cmov')) return null
  const header = onlyOf(parts, 'mvhd')
  const movieScale = header == null ? null : timeScale(buf, header)
  const tracks = parts.filter(b => b.type === 'trak')
  if (movieScale == null || !sameStreams(buf, tracks, info)) return null
  let outsideMpegClock = false
  const spans = new Map<number, StreamSpan>()
  for (const index of streams) {
    const track = tracks[index]
    const stream = info.streams[index]
    if (track == null || stream == null || REGROUPED_CODEC.test(stream.codec)) return null
    const times = trackTimes(buf, track, movieScale, fileSize, stream.type)
    if (times == null) return null
    spans.set(index, times.span)
    outsideMpegClock ||= (times.span.start ?? 0) < 0 || times.lastStart >= MPEG_CLOCK_WRAP_SEC
  }
  return { streams: spans, breaks: 0, outsideMpegClock }
}

/**
 * Whether ffprobe's streams are these tracks, in order (ffmpeg makes one stream per track), each
 * of the type its handler says, with only attached pictures after them (an MP4's cover art).
 */
function sameStreams (buf: Buffer, tracks: Box[], info: MediaInfo): boolean {
  if (info.streams.length < tracks.length) return false
  const tracksMatch = tracks.every((track, i) => {
    const stream = info.streams[i]
    const hdlr = descend(buf, track, ['mdia', 'hdlr'])
    const type = hdlr == null ? null : HANDLER_STREAM_TYPES[handlerType(buf, hdlr) ?? '']
    // A track that refers to another (a chapter or timecode track, tref) is read by ffmpeg its own way.
    const refers = (childBoxes(buf, track.start, track.end) ?? []).some(b => b.type === 'tref')
    return stream?.index === i && !refers && (type == null || type === stream.type)
  })
  return tracksMatch && info.streams.slice(tracks.length).every(s => s.attachedPic)
}

interface TrackTimes { span: StreamSpan, lastStart: number }

/** A track's packets and the presentation times they span, in seconds; null where its tables are not plain. */
function trackTimes (
  buf: Buffer,
  track: Box,
  movieScale: number,
  fileSize: number,
  type: StreamType
): TrackTimes | null {
  const mdia = descend(buf, track, ['mdia'])
  const mdhd = mdia == null ? null : descend(buf, mdia, ['mdhd'])
  const stbl = mdia == null ? null : descend(buf, mdia, ['minf', 'stbl'])
  const scale = mdhd == null ? null : timeScale(buf, mdhd)
  if (stbl == null || scale == null) return null
  const tables = sampleTables(buf, stbl)
  if (tables == null || !insideFile(tables, fileSize)) return null
  const edit = plainEdit(buf, track)
  if (edit === undefined) return null
  const { sizes, durations, offsets } = tables
  // One tick per sample is how ffmpeg recognises uncompressed sound, which it reads chunk by chunk.
  if (type === 'audio' && durations.every(d => d === 1)) return null
  let minCts = Number.POSITIVE_INFINITY
  let maxCts = Number.NEGATIVE_INFINITY
  let dts = 0
  const cts = new Float64Array(sizes.length)
  for (let i = 0; i < sizes.length; i++) {
    cts[i] = dts + (offsets[i] ?? 0)
    minCts = Math.min(minCts, cts[i] as number)
    maxCts = Math.max(maxCts, cts[i] as number)
    dts += durations[i] as number
  }
  let shift = 0
  if (edit != null) {
    // Nothing dropped or moved at the start: the edit begins at the first frame shown (ffmpeg would
    // keep frames before it with times before 0, and move a later first frame to 0), or for audio
    // up to a second after the first sample (ffmpeg keeps that much before it for the decoder's
    // priming); and no sample starts after it ends.
    if (type === 'audio' ? edit.mediaTime > scale : minCts !== edit.mediaTime) return null
    if (BigInt(maxCts - edit.mediaTime) * BigInt(movieScale) >= BigInt(edit.duration) * BigInt(scale)) return null
    shift = edit.mediaTime
  }
  const unit = 1 / scale
  let start = Number.POSITIVE_INFINITY
  let end = Number.NEGATIVE_INFINITY
  let lastStart = Number.NEGATIVE_INFINITY
  for (let i = 0; i < sizes.length; i++) {
    // As readPacketList takes framecrc's lines: ticks times the time base, then plus the duration.
    const pts = ((cts[i] as number) - shift) * unit
    start = Math.min(start, pts)
    lastStart = Math.max(lastStart, pts)
    end = Math.max(end, pts + (durations[i] as number) * unit)
  }
  return { span: { packets: sizes.length, start, end }, lastStart }
}

interface SampleTables {
  sizes: Uint32Array
  durations: Uint32Array
  /** Composition offsets; empty without a ctts box. */
  offsets: Int32Array
  chunks: number[]
  chunkRuns: ChunkRun[]
}

/**
 * A track's sample tables, each sample with a size, a duration and an offset; null where they do
 * not say so plainly.
 */
function sampleTables (buf: Buffer, stbl: Box): SampleTables | null {
  const parts = childBoxes(buf, stbl.start, stbl.end)
  if (parts == null) return null
  const stsd = onlyOf(parts, 'stsd')
  const stsz = onlyOf(parts, 'stsz')
  const stts = onlyOf(parts, 'stts')
  const stsc = onlyOf(parts, 'stsc')
  const stco = parts.filter(b => b.type === 'stco' || b.type === 'co64')
  const ctts = parts.filter(b => b.type === 'ctts')
  const stss = parts.filter(b => b.type === 'stss')
  if (stsd == null || stsz == null || stts == null || stsc == null) return null
  if (stco.length !== 1 || ctts.length > 1 || stss.length > 1) return null
  if (descriptionCount(buf, stsd) !== 1) return null
  const sizes = sampleSizes(buf, stsz)
  const durations = expand(runs(buf, stts, false), sizes?.length ?? 0, Uint32Array)
  const offsets = ctts[0] == null ? new Int32Array(0) : expand(runs(buf, ctts[0], true), sizes?.length ?? 0, Int32Array)
  const chunks = chunkOffsets(buf, stco[0] as Box, stco[0]?.type === 'co64')
  const runsOfChunks = chunkRuns(buf, stsc)
  if (sizes == null || sizes.length === 0 || durations == null || offsets == null) return null
  if (chunks == null || runsOfChunks == null) return null
  // An empty sample, a sample of no duration or one of "negative" duration, a negative composition
  // offset (ffmpeg shifts decode times for it): each is read by ffmpeg its own way.
  if (sizes.some(s => s === 0) || offsets.some(o => o < 0)) return null
  if (durations.some(d => d === 0 || d > 0x7fffffff)) return null
  // Decoding must start at a sync sample.
  const sync = stss[0] == null ? null : syncSamples(buf, stss[0])
  if (stss[0] != null && sync?.[0] !== 1) return null
  return { sizes, durations, offsets, chunks, chunkRuns: runsOfChunks }
}

/** Run-length pairs expanded to one value per sample; null unless they cover exactly `count` samples. */
function expand<T extends Uint32Array | Int32Array> (
  pairs: Array<{ count: number, value: number }> | null,
  count: number,
  Kind: new (length: number) => T
): T | null {
  if (pairs == null || pairs.reduce((n, p) => n + p.count, 0) !== count) return null
  const out = new Kind(count)
  let at = 0
  for (const p of pairs) { out.fill(p.value, at, at + p.count); at += p.count }
  return out
}

/**
 * Whether every chunk's samples lie inside the file and the chunks hold every sample once, each of
 * the one description: a file cut short keeps the index of samples it lost, and ffmpeg stops there.
 */
function insideFile ({ sizes, chunks, chunkRuns: table }: SampleTables, fileSize: number): boolean {
  if (table[0]?.first !== 1) return false
  let sample = 0
  let run = 0
  for (let c = 0; c < chunks.length; c++) {
    while (run + 1 < table.length && (table[run + 1] as { first: number }).first <= c + 1) run++
    const { samples, description } = table[run] as { samples: number, description: number }
    if (description !== 1 || sample + samples > sizes.length) return false
    let end = chunks[c] as number
    for (let k = 0; k < samples; k++) end += sizes[sample++] as number
    if (end > fileSize) return false
  }
  return sample === sizes.length
}

/**
 * The track's edit: null for none (or an empty list), the one edit when it plays the media at speed
 * from a point in it, undefined for anything else (several edits, an empty one, another rate).
 */
function plainEdit (buf: Buffer, track: Box): { mediaTime: number, duration: number } | null | undefined {
  const boxes = childBoxes(buf, track.start, track.end) ?? []
  const edts = boxes.filter(b => b.type === 'edts')
  if (edts.length === 0) return null
  const elst = edts.length === 1 ? descend(buf, edts[0] as Box, ['elst']) : null
  const list = elst == null ? null : edits(buf, elst)
  if (list == null) return undefined
  if (list.length === 0) return null
  const only = list[0]
  if (list.length !== 1 || only == null || only.rate !== RATE_ONE) return undefined
  if (only.mediaTime < 0 || only.duration <= 0) return undefined
  return { mediaTime: only.mediaTime, duration: only.duration }
}
