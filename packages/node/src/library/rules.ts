import path from 'node:path'
import { ErrorCodes, type Container, type ErrorBody, type Profile } from '@ffmesh/protocol'
import { unitDeinterlace, unitToneMap, type MediaInfo } from '../media/index.js'
import type { LoggedLibraryRules } from '../store/records.js'

/**
 * The library's rules, checked before any work (size, bit rate, already in the target) and after
 * verification (the saving). Pure: the planner and `scan --dry-run` ask the same questions.
 */

/** The codec name ffprobe reports for what each encoder writes. */
const ENCODER_CODECS: Record<string, string> = {
  libx264: 'h264', libx265: 'hevc', libsvtav1: 'av1', 'libaom-av1': 'av1', 'libvpx-vp9': 'vp9',
  aac: 'aac', libopus: 'opus', libmp3lame: 'mp3', flac: 'flac', libvorbis: 'vorbis', libwebp: 'webp'
}

/** File extensions that hold each container (the demuxer name alone cannot tell mkv from webm). */
const CONTAINER_EXTENSIONS: Record<Container, readonly string[]> = {
  mkv: ['mkv'],
  mp4: ['mp4', 'm4v'],
  webm: ['webm'],
  mka: ['mka'],
  opus: ['opus'],
  m4a: ['m4a'],
  mp3: ['mp3'],
  flac: ['flac'],
  webp: ['webp']
}

const skip = (code: ErrorBody['code'], message: string): ErrorBody => ({ code, message })

/** Before the probe: the file's size alone. */
export function sizeRule (size: number, rules: LoggedLibraryRules): ErrorBody | null {
  if (rules.minSize > 0 && size < rules.minSize) {
    return skip(ErrorCodes.BELOW_MIN_SIZE, `${size} bytes is below the library's minSize of ${rules.minSize}`)
  }
  return null
}

/** The codec the profile makes of the source's main stream of its kind. */
function targetCodec (profile: Profile): string | null {
  const encoder = profile.kind === 'video' ? profile.video?.encoder
    : profile.kind === 'audio' ? (typeof profile.audio === 'object' ? profile.audio.encoder : undefined)
      : profile.image?.encoder
  return encoder != null ? ENCODER_CODECS[encoder] ?? null : null
}

function sourceCodecs (info: MediaInfo, kind: Profile['kind']): string[] {
  if (kind === 'audio') return info.streams.filter(s => s.type === 'audio').map(s => s.codec)
  return info.videoCodec != null ? [info.videoCodec] : []
}

/**
 * True when the source is already in the profile's codec (every stream of its kind) and container,
 * and the profile would not change its picture: an interlaced TV recording in H.264 is not what a
 * profile that deinterlaces makes, nor an HDR film in HEVC what one that tone maps makes.
 */
export function isAlreadyTarget (source: string, info: MediaInfo, profile: Profile): boolean {
  const ext = path.extname(source).slice(1).toLowerCase()
  if (!CONTAINER_EXTENSIONS[profile.container].includes(ext)) return false
  if (unitDeinterlace(info, profile) != null || unitToneMap(info, profile)) return false
  const codec = targetCodec(profile)
  const codecs = sourceCodecs(info, profile.kind)
  return codec != null && codecs.length > 0 && codecs.every(c => c === codec)
}

/** After the probe: already in the target, or a bit rate too low to be worth it. */
export function probeRule (
  source: string,
  size: number,
  info: MediaInfo,
  profile: Profile,
  rules: LoggedLibraryRules
): ErrorBody | null {
  if (isAlreadyTarget(source, info, profile)) {
    return skip(
      ErrorCodes.ALREADY_TARGET,
      `already ${targetCodec(profile) ?? profile.kind} in ${profile.container}, what profile ${profile.name} makes`
    )
  }
  if (rules.minBitrateKbps > 0 && info.durationSec > 0) {
    const kbps = (size * 8) / 1000 / info.durationSec
    if (kbps < rules.minBitrateKbps) {
      return skip(
        ErrorCodes.BELOW_MIN_BITRATE,
        `${Math.round(kbps)} kb/s is below the library's minBitrateKbps of ${rules.minBitrateKbps}`
      )
    }
  }
  return null
}

/**
 * After verification: an output that does not save enough is discarded and the original kept,
 * unless the library keeps every output (keepLarger).
 */
export function savingRule (
  sourceSize: number,
  outputSize: number,
  rules: LoggedLibraryRules
): ErrorBody | null {
  if (rules.keepLarger === true) return null
  const savedPercent = sourceSize > 0 ? (sourceSize - outputSize) / sourceSize * 100 : 0
  if (outputSize >= sourceSize || savedPercent < rules.minSavingPercent) {
    return skip(
      ErrorCodes.NO_SAVING,
      `the output (${outputSize} bytes) saves ${savedPercent.toFixed(1)}% of the source (${sourceSize} bytes); at least ${rules.minSavingPercent}% and a smaller file are needed, so the original is kept`
    )
  }
  return null
}
