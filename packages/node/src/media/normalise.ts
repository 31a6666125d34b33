import { join, resolve } from 'node:path'
import { rm } from 'node:fs/promises'
import { mustPassOn } from './disk-full.js'
import { inputArgs, outputArgs } from './ffmpeg-args.js'
import type { MediaInfo } from './probe.js'
import type { FfmpegRunner } from './runner.js'

/**
 * Sources whose timestamps cannot be cut as they are get an honest copy first, made by a stream
 * copy (no decoding, no quality lost), and the whole job reads that copy instead: its cut, its
 * audio, the tracks copied at assembly. The copy's timeline is the one a plain
 * `ffmpeg -i source ...` run works on, so the output matches what such a run gives.
 *
 * - `timeline`: an MPEG-TS or MPEG-PS whose clock jumps (two recordings joined byte-wise) or wraps
 *   (the 33-bit clock passes 26.5 h). A plain run corrects both as it reads (its
 *   -dts_delta_threshold logic), for every stream at once; a cut that keeps source times
 *   (-copyts) would keep the jump as a hole or an overlap, and each piece would unwrap the clock
 *   on its own. The copy is written without -copyts, so ffmpeg's correction goes into it.
 * - `timestamps`: packets without presentation times (AVI with B-frames). ffmpeg generates them
 *   from the decode order (-fflags +genpts), after unpacking XviD's packed B-frames, which genpts
 *   would otherwise misplace (measured: 249 frames, several on one time, from a 248-frame file;
 *   unpacked first, all 248 at the times a direct decode gives them).
 */
export type NormaliseReason = 'timeline' | 'timestamps'

/** Demuxers ffmpeg corrects for clock discontinuities (AVFMT_TS_DISCONT), by ffprobe's format name. */
const DISCONTINUOUS_FORMATS = new Set(['mpegts', 'mpegtsraw', 'mpeg'])

/** Whether ffmpeg treats this source's clock as one that may jump: only then can a jump differ from a plain run. */
export function hasBreakableClock (info: Pick<MediaInfo, 'formatName'>): boolean {
  return info.formatName.split(',').some(name => DISCONTINUOUS_FORMATS.has(name))
}

/**
 * Codecs whose missing presentation times genpts restores as a decoder shows the frames: their
 * B-frames are never references, so a frame's time follows from the decode order alone (measured
 * against a direct decode: XviD, DivX, MPEG-2 in AVI). H.264 and HEVC in AVI, whose B-frames may
 * be references (pyramids), came out with several frames on one time; such a source is converted
 * whole, by a plain run, which orders its frames itself.
 */
const GENPTS_CODECS = new Set(['mpeg4', 'mpeg1video', 'mpeg2video'])

/** Whether the source needs an honest copy before it can be cut at all (its packets lack presentation times). */
export function normaliseBeforeCut (info: Pick<MediaInfo, 'missingPts' | 'videoCodec'>): NormaliseReason | null {
  return info.missingPts === true && GENPTS_CODECS.has(info.videoCodec ?? '') ? 'timestamps' : null
}

/** Every stream a job can keep: video (not cover art, which the source still holds), audio, subtitles. */
const KEPT_STREAMS = [
  '-map',
  '0:V?',
  '-map',
  '0:a?',
  '-map',
  '0:s?',
  '-c',
  'copy',
  '-copyinkf',
  '-dn',
  '-ignore_unknown'
]

/**
 * Writes the honest copy into `workDir` and returns its path. A TS keeps its own container (it
 * holds teletext and DVB subtitles Matroska cannot); should the TS muxer refuse a stream, or for
 * any other source, the copy is Matroska.
 */
export async function normaliseSource (
  runner: FfmpegRunner,
  source: string,
  info: MediaInfo,
  reason: NormaliseReason,
  workDir: string,
  options: { signal?: AbortSignal } = {}
): Promise<string> {
  const dir = resolve(workDir)
  if (reason === 'timeline') {
    const ts = join(dir, 'normalised.ts')
    try {
      // No -copyts: ffmpeg's discontinuity and wrap correction is the point.
      await runner.run([...inputArgs(source), ...KEPT_STREAMS, ...outputArgs(ts, 'mpegts')], options)
      return ts
    } catch (err) {
      await rm(ts, { force: true })
      if (mustPassOn(err, options.signal)) throw err
    }
    const mkv = join(dir, 'normalised.mkv')
    await runner.run([...inputArgs(source), ...KEPT_STREAMS, ...outputArgs(mkv, 'matroska')], options)
    return mkv
  }
  let input = source
  const unpacked = join(dir, 'unpacked.avi')
  try {
    if (info.videoCodec === 'mpeg4') {
      // The filter passes a stream without packed frames through unchanged. AVI, because the
      // packets still have no presentation times, which AVI alone does not need.
      await runner.run(
        [...inputArgs(source), ...KEPT_STREAMS, '-bsf:v', 'mpeg4_unpack_bframes', ...outputArgs(unpacked, 'avi')],
        options
      )
      input = unpacked
    }
    const mkv = join(dir, 'normalised.mkv')
    await runner.run(
      [
        '-fflags',
        '+genpts',
        '-copyts',
        ...inputArgs(input),
        '-map',
        '0',
        '-c',
        'copy',
        '-copyinkf',
        ...outputArgs(mkv, 'matroska')
      ],
      options
    )
    return mkv
  } finally {
    await rm(unpacked, { force: true })
  }
}
