import { TRACK_AUDIO, TRACK_SUBTITLE, TRACK_VIDEO, type MatroskaTally } from './matroska-tally.js'
import type { ProbeResult } from './probe.js'

/**
 * What the final check reads from ffprobe about a Matroska output (its streams in order and their
 * types, the container's duration, its chapters), taken instead from the walk of the file that
 * the check makes anyway (matroska-tally.ts): one process start less per job, on the core that is
 * converting the next one. ffmpeg's demuxer makes one stream per track, in the track list's order,
 * and gives Segment Info's Duration as the container's. Only an output the walk describes as
 * ffprobe would: none of chapters (ffmpeg leaves some out), attachments (a picture among them
 * becomes a stream) or a title (ffmpeg may take one from the tags); otherwise null and the check
 * asks ffprobe.
 */

const STREAM_TYPES: Record<number, string> = { [TRACK_VIDEO]: 'video', [TRACK_AUDIO]: 'audio', [TRACK_SUBTITLE]: 'subtitle' }

/** ffmpeg's names for the audio CodecIDs whose last frame's duration the walk may estimate (output-packets.ts). */
const AUDIO_CODECS: Record<string, string> = {
  A_AAC: 'aac',
  A_OPUS: 'opus',
  A_AC3: 'ac3',
  A_EAC3: 'eac3',
  'A_MPEG/L3': 'mp3',
  'A_MPEG/L2': 'mp2'
}

export function probeFromTally (tally: MatroskaTally): ProbeResult | null {
  if (tally.hasChapters || tally.hasAttachments || tally.title != null || tally.durationSec == null) return null
  if (!tally.tracks.every(t => STREAM_TYPES[t.type] != null)) return null
  return {
    streams: tally.tracks.map((t, index) => ({
      index,
      codec_type: STREAM_TYPES[t.type],
      ...(t.codecId != null && AUDIO_CODECS[t.codecId] != null ? { codec_name: AUDIO_CODECS[t.codecId] } : {}),
      disposition: { attached_pic: 0 }
    })),
    format: { duration: String(tally.durationSec) },
    chapters: []
  }
}
