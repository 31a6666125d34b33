import { mediaPath, PROTOCOL_WHITELIST } from './ffmpeg-args.js'
import type { FfmpegRunner } from './runner.js'

/** Seconds decoded at the start to find frames a decoder drops; a few GOPs of any common source. */
export const LEAD_PROBE_SEC = 5

/** What the first seconds of the main video stream tell. */
export interface LeadFacts {
  /** Packets read there. */
  packets: number
  /** Packets no decoder shows (packets minus decoded frames). */
  undecodable: number
  /**
   * Some packets carry a decode time but no presentation time: AVI stores one time per frame, so
   * reordered frames (B-frames, XviD's packed bitstream) come without one, and nothing that keeps
   * source times can place them.
   */
  missingPts: boolean
  /**
   * When the first frame a decoder shows is presented, in source time; null if none decoded.
   * Frames before it in the file (a recording that starts mid-GOP) are never shown, so this, not
   * the first packet's time, is where the video starts for a player and a plain ffmpeg run.
   */
  firstFrameTime: number | null
}

/** A packet a probe listed beside the streams (readProbe's `leadPackets`). */
export interface ListedPacket {
  stream_index?: number
  pts_time?: string
  dts_time?: string
  flags?: string
}

/** The main video stream as leadFromPackets reads it. */
export interface LeadStream {
  index: number
  codec_name?: string
  extradata_size?: number
}

/**
 * Containers that index their packets and keep a codec's parameter sets in the stream's header
 * (MP4/MOV, Matroska/WebM): there a keyframe decodes on its own. A transport stream may start
 * before its first parameter sets, an AVI lacks presentation times, so those are decoded.
 */
const INDEXED_FORMAT = /(^|,)(mov|matroska)(,|$)/
/** Codecs whose keyframes a decoder starts at: no hidden frames (VP8's alt-ref) to count apart. */
const KEYFRAME_CODECS = new Set(['h264', 'hevc'])

/**
 * The lead facts from packets alone, where they settle them without a decode (which costs about
 * 0.2 CPU s on 720p, on every file): an H.264 or HEVC stream in an indexed container with its
 * parameter sets in the header, whose first packet is a keyframe the demuxer keeps (an edit list
 * that starts mid-GOP marks the frames before it discarded) and is shown before every later packet
 * read (no open-GOP leading frames). Then a decoder shows every frame, the first one first. Null
 * when any of that is not so: readLead decodes the start.
 */
export function leadFromPackets (
  formatName: string,
  stream: LeadStream,
  packets: ListedPacket[]
): LeadFacts | null {
  if (!INDEXED_FORMAT.test(formatName) || !KEYFRAME_CODECS.has(stream.codec_name ?? '')) return null
  if ((stream.extradata_size ?? 0) <= 0) return null
  const video = packets.filter(p => p.stream_index === stream.index)
  const first = video[0]
  if (first == null || first.flags?.[0] !== 'K') return null
  const times = video.map(p => Number(p.pts_time))
  const start = times[0] as number
  if (times.some(t => !Number.isFinite(t) || t < start) || video.some(p => p.flags?.includes('D') === true)) return null
  return { packets: video.length, undecodable: 0, missingPts: false, firstFrameTime: start }
}

/** Shown together, ffprobe lists packets and frames in one section, in the order it read them. */
interface LeadProbe {
  packets_and_frames?: Array<{
    type?: string
    pts_time?: string
    dts_time?: string
    best_effort_timestamp_time?: string
  }>
  streams?: Array<{ nb_read_packets?: string; nb_read_frames?: string }>
}

/**
 * Reads the main video's first seconds: its packets, the frames a decoder drops there, and whether
 * its packets carry presentation times. Only the start can lose frames (every later frame has its
 * references decoded before it), and a direct ffmpeg run loses the same ones, so they are not part
 * of the source's frame count.
 */
export async function readLead (
  runner: FfmpegRunner,
  file: string,
  streamIndex: number,
  options: { signal?: AbortSignal }
): Promise<LeadFacts> {
  const probe = (await runner.probeJson(
    [
      '-protocol_whitelist',
      PROTOCOL_WHITELIST,
      '-select_streams',
      String(streamIndex),
      '-read_intervals',
      `%+${LEAD_PROBE_SEC}`,
      '-count_frames',
      '-count_packets',
      '-show_entries',
      'stream=nb_read_frames,nb_read_packets:packet=pts_time,dts_time:frame=best_effort_timestamp_time',
      mediaPath(file)
    ],
    options
  )) as LeadProbe
  const stream = probe.streams?.[0]
  const packets = Number(stream?.nb_read_packets ?? 0)
  const frames = Number(stream?.nb_read_frames ?? packets)
  const entries = probe.packets_and_frames ?? []
  const shown = entries
    .filter(e => e.type === 'frame')
    .map(f => Number(f.best_effort_timestamp_time))
    .filter(Number.isFinite)
  return {
    firstFrameTime: shown.length > 0 ? Math.min(...shown) : null,
    packets: Number.isFinite(packets) ? packets : 0,
    undecodable: Number.isFinite(packets - frames) && packets > frames ? packets - frames : 0,
    missingPts: entries.some(p => p.type === 'packet' && p.pts_time == null && p.dts_time != null)
  }
}
