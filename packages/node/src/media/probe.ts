import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { FfmeshError, ErrorCodes } from '@ffmesh/protocol'
import { mediaPath, PROTOCOL_WHITELIST } from './ffmpeg-args.js'
import { LEAD_PROBE_SEC, leadFromPackets, readLead, type LeadFacts, type ListedPacket } from './lead-probe.js'
import { displayRotation, type Rotation, type RotationSideData } from './rotation.js'
import { looksLikeMedia } from './source-sniff.js'
import type { FfmpegRunner } from './runner.js'

export type StreamType = 'video' | 'audio' | 'subtitle' | 'attachment' | 'data'

export interface MediaStream {
  index: number
  type: StreamType
  codec: string
  language: string | null
  title: string | null
  attachedPic: boolean
  /** An attachment's (or attached picture's) file name and type, from its tags. */
  filename?: string | null
  mimetype?: string | null
}

export interface MediaInfo {
  kind: 'video' | 'audio' | 'image'
  formatName: string
  durationSec: number
  startTime: number
  /**
   * Frame count of the main video stream (its packets less leadingUndecodable), 1 for an image;
   * null without video, and for a video until its plan counts it (see probeSource).
   */
  videoFrames: number | null
  videoCodec: string | null
  audioTracks: number
  subtitleTracks: number
  chapters: number
  title: string | null
  streams: MediaStream[]
  /** Source index of the main video stream (the first one that is not an attached picture). */
  videoStreamIndex?: number | null
  /**
   * First presentation time of the main video stream, in source time: of the first frame a decoder
   * shows (see LeadFacts.firstFrameTime), else of its first packet.
   */
  videoStartTime?: number | null
  /** Average frame rate of the main video stream, frames per second. */
  frameRate?: number | null
  /**
   * Packets at the very start that no decoder can show (the leading B-frames of an open GOP when a
   * capture starts mid-stream); already subtracted from videoFrames.
   */
  leadingUndecodable?: number
  /** The clockwise turn that shows the main video upright (its display matrix), 0 for none. */
  rotation?: Rotation
  /**
   * The main video's decoded picture as ffprobe names it: what decides the format a unit writes
   * (picture-format.ts). Null without video or where ffprobe cannot say; absent in older jobs.
   */
  picture?: SourcePicture | null
  /** The main video's packets lack presentation times (see LeadFacts.missingPts): the plan normalises it. */
  missingPts?: boolean
  /**
   * Where each stream's packets really end (last presentation time plus duration), by source
   * stream index, as the plan read them: the header's duration may lie (a recording cut short).
   * Absent until the plan measured it, and in jobs logged by older nodes.
   */
  streamEnds?: Record<string, number>
}

export interface SourcePicture {
  /** ffmpeg's pixel format name ('yuv420p', 'yuvj422p', 'yuv422p10le'). */
  pixelFormat: string
  width: number
  height: number
  /** The transfer curve ('bt709', 'smpte2084' for HDR10, 'arib-std-b67' for HLG), where tagged. */
  transfer?: string | null
  /** How the stream says its frames are scanned: 'progressive', or 'tt', 'bb', 'tb', 'bt' for interlaced. */
  fieldOrder?: string | null
}

/** What ffprobe prints, as far as this module reads it. */
export interface ProbeStream extends RotationSideData {
  index: number
  codec_type?: string
  codec_name?: string
  start_time?: string
  avg_frame_rate?: string
  r_frame_rate?: string
  pix_fmt?: string
  width?: number
  height?: number
  color_transfer?: string
  field_order?: string
  nb_read_packets?: string
  extradata_size?: number
  disposition?: Record<string, number>
  tags?: Record<string, string>
}
export interface ProbeFormat {
  format_name?: string
  duration?: string
  start_time?: string
  tags?: Record<string, string>
}
export interface ProbeResult {
  streams?: ProbeStream[]
  format?: ProbeFormat
  chapters?: unknown[]
  /** The first LEAD_PROBE_SEC of packets, every stream's, when readProbe was asked for them. */
  packets?: ListedPacket[]
}

/** Codecs of still pictures: a single frame of one of these is an image, not a video. */
const IMAGE_CODECS = new Set([
  'png',
  'mjpeg',
  'webp',
  'bmp',
  'tiff',
  'gif',
  'jpegls',
  'jpeg2000',
  'pam',
  'ppm',
  'pgm',
  'qoi',
  'jpegxl',
  'dpx',
  'exr'
])

export function tag (tags: Record<string, string> | undefined, name: string): string | null {
  if (tags == null) return null
  for (const [key, value] of Object.entries(tags)) if (key.toLowerCase() === name) return value
  return null
}

export function toSeconds (value: string | undefined): number | null {
  if (value == null) return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

function rate (value: string | undefined): number | null {
  const m = /^(\d+)\/(\d+)$/.exec(value ?? '')
  if (m == null || Number(m[2]) === 0 || Number(m[1]) === 0) return null
  return Number(m[1]) / Number(m[2])
}

const STREAM_TYPES = new Set<string>(['video', 'audio', 'subtitle', 'attachment', 'data'])

export function toStreams (probe: ProbeResult): MediaStream[] {
  return (probe.streams ?? []).map(s => ({
    index: s.index,
    type: (STREAM_TYPES.has(s.codec_type ?? '') ? s.codec_type : 'data') as StreamType,
    codec: s.codec_name ?? 'unknown',
    language: tag(s.tags, 'language'),
    title: tag(s.tags, 'title'),
    attachedPic: s.disposition?.attached_pic === 1,
    filename: tag(s.tags, 'filename'),
    mimetype: tag(s.tags, 'mimetype')
  }))
}

/** The stream a conversion keeps as video: the first video stream that is not cover art. */
export function mainVideo (probe: ProbeResult): ProbeStream | undefined {
  return probe.streams?.find(s => s.codec_type === 'video' && s.disposition?.attached_pic !== 1)
}

/** mainVideo, of streams as MediaInfo lists them. */
export function mainVideoOf (streams: MediaStream[]): MediaStream | undefined {
  return streams.find(s => s.type === 'video' && !s.attachedPic)
}

/**
 * One ffprobe pass over a file (streams, format, chapters), optionally counting packets, or listing
 * those of its first seconds (`leadPackets`, which leadFromPackets reads): the two exclude each
 * other, as a count over the first seconds only would pass for the whole file's.
 */
export async function readProbe (
  runner: FfmpegRunner,
  file: string,
  options: { signal?: AbortSignal; countPackets?: boolean; leadPackets?: boolean } = {}
): Promise<ProbeResult> {
  const args = ['-protocol_whitelist', PROTOCOL_WHITELIST, '-show_format', '-show_streams', '-show_chapters']
  if (options.countPackets === true) args.push('-count_packets')
  else if (options.leadPackets === true) {
    args.push('-read_intervals', `%+${LEAD_PROBE_SEC}`, '-show_entries', 'packet=stream_index,pts_time,dts_time,flags')
  }
  args.push(mediaPath(file))
  return (await runner.probeJson(args, options)) as ProbeResult
}

async function checkFile (file: string): Promise<void> {
  let info
  try {
    info = await stat(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FfmeshError(ErrorCodes.SOURCE_NOT_FOUND, `${file} does not exist; check the path`)
    }
    throw new FfmeshError(ErrorCodes.SOURCE_NOT_FOUND, `cannot read ${file}: ${(err as Error).message}`)
  }
  if (info.isDirectory()) {
    throw new FfmeshError(
      ErrorCodes.SOURCE_IS_DIRECTORY,
      `${file} is a directory; submit the files in it, or watch it with \`ffmesh watch add\``
    )
  }
  if (!info.isFile()) throw new FfmeshError(ErrorCodes.SOURCE_NOT_MEDIA, `${file} is not a regular file`)
  if (info.size === 0) {
    throw new FfmeshError(ErrorCodes.SOURCE_EMPTY, `${file} is empty (0 bytes); was it still being copied?`)
  }
}

/**
 * Probes a source a person submitted and says what it is, or why it cannot be converted. It reads
 * only the start of a video: the plan counts its frames (`videoFrames` stays null until then), in
 * the same read that cuts it, so a large file is not read once more just to be counted.
 */
export async function probeSource (
  runner: FfmpegRunner,
  file: string,
  options: { signal?: AbortSignal } = {}
): Promise<MediaInfo> {
  const abs = resolve(file)
  await checkFile(abs)
  let probe: ProbeResult
  let lead: LeadFacts | null
  try {
    probe = await readProbe(runner, abs, { ...options, leadPackets: true })
    const video = mainVideo(probe)
    const listed = video != null ? leadFromPackets(probe.format?.format_name ?? '', video, probe.packets ?? []) : null
    lead = video != null ? (listed ?? (await readLead(runner, abs, video.index, options))) : null
    // Audio files, pictures and videos with at most one frame in their first seconds are counted
    // whole now: that count tells a picture from a video, and an empty stream from a good one.
    if (lead == null || lead.packets <= 1) probe = await readProbe(runner, abs, { ...options, countPackets: true })
  } catch (err) {
    if (options.signal?.aborted === true || (err as FfmeshError).code === ErrorCodes.FFMPEG_NOT_FOUND) throw err
    const stderr = String((err as FfmeshError).details?.stderr ?? (err as Error).message)
    if (await looksLikeMedia(abs)) {
      throw new FfmeshError(
        ErrorCodes.SOURCE_CORRUPT,
        `${abs} looks like a media file but cannot be read (${stderr.split('\n').pop() ?? ''}); it may be truncated or damaged`
      )
    }
    throw new FfmeshError(ErrorCodes.SOURCE_NOT_MEDIA, `${abs} is not a media file ffmpeg can read`)
  }
  const info = toMediaInfo(abs, probe, lead != null && lead.packets > 1)
  if (info.kind === 'video' && lead != null) {
    info.leadingUndecodable = lead.undecodable
    if (info.videoFrames != null) info.videoFrames -= lead.undecodable
    if (lead.missingPts) info.missingPts = true
    // Assembly places the video where its first shown frame is: a mid-GOP start's first packets never show.
    if (lead.firstFrameTime != null) info.videoStartTime = lead.firstFrameTime
  }
  return info
}

/**
 * `moving`: the video has more than one frame in its first seconds, so it is no picture and not
 * empty, and `probe` did not count its packets (the plan will).
 */
function toMediaInfo (file: string, probe: ProbeResult, moving: boolean): MediaInfo {
  const streams = toStreams(probe)
  const video = mainVideo(probe)
  const audioTracks = streams.filter(s => s.type === 'audio').length
  if (video == null && audioTracks === 0) {
    throw new FfmeshError(ErrorCodes.SOURCE_NOT_MEDIA, `${file} has neither a video nor an audio stream`)
  }
  const formatName = probe.format?.format_name ?? 'unknown'
  const packets = video != null && !moving ? Number(video.nb_read_packets ?? 0) : null
  const isImage = video != null && !moving && audioTracks === 0 && (packets ?? 0) <= 1 &&
    (IMAGE_CODECS.has(video.codec_name ?? '') || /(^image2$|_pipe$)/.test(formatName))
  if (video != null && !isImage && packets === 0) {
    throw new FfmeshError(
      ErrorCodes.SOURCE_CORRUPT,
      `${file} has a video stream without any frame; it may be truncated or damaged`
    )
  }
  const audioPackets = (probe.streams ?? [])
    .filter(s => s.codec_type === 'audio')
    .reduce((n, s) => n + Number(s.nb_read_packets ?? 0), 0)
  if (video == null && audioPackets === 0) {
    throw new FfmeshError(
      ErrorCodes.SOURCE_CORRUPT,
      `${file} has an audio stream without any sample; it may be truncated or damaged`
    )
  }
  return {
    kind: isImage ? 'image' : video != null ? 'video' : 'audio',
    formatName,
    durationSec: isImage ? 0 : toSeconds(probe.format?.duration) ?? 0,
    startTime: toSeconds(probe.format?.start_time) ?? 0,
    videoFrames: isImage ? 1 : packets,
    videoCodec: video?.codec_name ?? null,
    audioTracks,
    subtitleTracks: streams.filter(s => s.type === 'subtitle').length,
    chapters: probe.chapters?.length ?? 0,
    title: tag(probe.format?.tags, 'title'),
    streams,
    videoStreamIndex: video?.index ?? null,
    videoStartTime: toSeconds(video?.start_time),
    frameRate: video != null ? rate(video.avg_frame_rate) ?? rate(video.r_frame_rate) : null,
    rotation: displayRotation(video),
    picture: sourcePicture(video)
  }
}

function sourcePicture (video: ProbeStream | undefined): SourcePicture | null {
  const { pix_fmt: pixelFormat, width, height, color_transfer: transfer, field_order: fieldOrder } = video ?? {}
  if (pixelFormat == null || !/^[a-z0-9_]{1,32}$/.test(pixelFormat)) return null
  if (width == null || height == null || !(width > 0 && height > 0)) return null
  return { pixelFormat, width, height, transfer: probeName(transfer), fieldOrder: probeName(fieldOrder) }
}

/** A name ffprobe printed, kept only in the shape such names have: it is stored and compared. */
function probeName (name: string | undefined): string | null {
  return name != null && /^[a-z0-9-]{1,32}$/.test(name) ? name : null
}

/** What is checked of a converted unit; `startSec` is a segment's first video time (null otherwise). */
export interface UnitMeasure { frames: number, durationSec: number, startSec: number | null }

/**
 * Measures a converted unit in one probe. A segment's packets give both its frame count and its
 * first presentation time, which assembly needs for the concat list; recording it here, when the
 * result is verified, saves probing every segment again at assembly.
 */
export async function measureOutput (
  runner: FfmpegRunner,
  file: string,
  kind: 'segment' | 'audio' | 'whole',
  options: { signal?: AbortSignal } = {}
): Promise<UnitMeasure> {
  if (kind !== 'segment') return { ...(await countFrames(runner, file, options)), startSec: null }
  const probe = (await runner.probeJson(
    [
      '-protocol_whitelist',
      PROTOCOL_WHITELIST,
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=pts_time:format=duration',
      mediaPath(file)
    ],
    options
  )) as { packets?: Array<{ pts_time?: string }>; format?: { duration?: string } }
  const packets = probe.packets ?? []
  const times = packets.map(p => toSeconds(p.pts_time)).filter((t): t is number => t != null)
  return {
    frames: packets.length,
    durationSec: toSeconds(probe.format?.duration) ?? 0,
    // The smallest packet time, not the container's start_time: ffprobe leaves that N/A for some
    // short Matroska files. Null when no packet has a time: assembly then refuses the segment.
    startSec: times.length > 0 ? times.reduce((a, b) => Math.min(a, b)) : null
  }
}

/**
 * Frames and duration of a converted file: packets of its first video stream (audio packets of the
 * first audio stream when there is no video) and the container's duration.
 */
export async function countFrames (
  runner: FfmpegRunner,
  file: string,
  options: { signal?: AbortSignal } = {}
): Promise<{ frames: number; durationSec: number }> {
  const probe = await readProbe(runner, file, { ...options, countPackets: true })
  const stream = mainVideo(probe) ?? probe.streams?.find(s => s.codec_type === 'audio')
  return { frames: Number(stream?.nb_read_packets ?? 0), durationSec: toSeconds(probe.format?.duration) ?? 0 }
}
