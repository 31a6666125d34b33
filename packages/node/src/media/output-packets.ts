import { TRACK_AUDIO, TRACK_SUBTITLE, TRACK_VIDEO, type MatroskaTally } from './matroska-tally.js'
import { scanPackets, type StreamSpan } from './packet-list.js'
import type { ProbeResult } from './probe.js'
import type { FfmpegRunner } from './runner.js'

/**
 * Audio codecs whose every frame lasts as long as the others (AAC 1024 samples, MP3 1152, AC-3
 * 1536; ffmpeg's libopus writes 20 ms frames): the walk's estimate of the last frame's duration,
 * the step between two frames, is what ffmpeg's parser gives. A FLAC or Vorbis last frame may be
 * shorter or longer, so those outputs are listed by ffmpeg.
 */
const EVEN_FRAME_AUDIO = new Set(['aac', 'mp3', 'mp2', 'ac3', 'eac3', 'opus'])

const TRACK_TYPES: Record<string, number> = { video: TRACK_VIDEO, audio: TRACK_AUDIO, subtitle: TRACK_SUBTITLE }

/**
 * The packets of an output's `streams` (their count and the times they span), for the final check.
 * A Matroska output's are taken from the caller's walk of it (`tally`, matroska-tally.ts: no
 * process start, and a damaged file is refused); ffmpeg lists anything else (`tally` null), and a
 * Matroska file whose tracks are not ffprobe's streams one for one, or whose checked tracks end
 * where the walk can only estimate.
 */
export async function outputPackets (
  runner: FfmpegRunner,
  file: string,
  probe: ProbeResult,
  streams: number[],
  tally: MatroskaTally | null,
  options: { signal?: AbortSignal } = {}
): Promise<Map<number, StreamSpan>> {
  const walked = tally != null ? spansFromTally(tally, probe, streams) : null
  if (walked != null) return walked
  return (await scanPackets(runner, file, streams, `${file}.packets.crc`, options)).streams
}

/**
 * ffmpeg's Matroska demuxer makes one stream per track, in the track list's order, before the
 * attachments: track i is stream i when the types agree. Null when they do not, or when a checked
 * track's end is an estimate its codec does not make exact.
 */
function spansFromTally (tally: MatroskaTally, probe: ProbeResult, streams: number[]): Map<number, StreamSpan> | null {
  const probed = probe.streams ?? []
  const matches = tally.tracks.every((track, i) => {
    const stream = probed[i]
    return stream?.index === i && TRACK_TYPES[stream.codec_type ?? ''] === track.type
  })
  if (!matches) return null
  const spans = new Map<number, StreamSpan>()
  for (const index of streams) {
    const track = tally.tracks[index]
    if (track == null) return null
    const codec = probed[index]?.codec_name ?? ''
    if (track.endEstimated && !(track.type === TRACK_AUDIO && EVEN_FRAME_AUDIO.has(codec))) return null
    spans.set(index, { packets: track.packets, start: track.start, end: track.end })
  }
  return spans
}
