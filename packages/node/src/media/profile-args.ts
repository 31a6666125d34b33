import { FfmeshError, ErrorCodes, type AudioEncoder, type Profile, type UnitSpec } from '@ffmesh/protocol'
import type { MediaInfo, MediaStream } from './probe.js'

type Container = Profile['container']
type VideoSettings = NonNullable<Profile['video']>

/** ffmpeg muxer per container (the extension alone would pick `ipod` for m4a, `ogg` for opus). */
export const CONTAINER_MUXERS: Record<Container, string> = {
  mkv: 'matroska',
  mp4: 'mp4',
  webm: 'webm',
  mka: 'matroska',
  opus: 'opus',
  m4a: 'mp4',
  mp3: 'mp3',
  flac: 'flac',
  webp: 'webp'
}

/** Containers that hold one audio track only. */
const SINGLE_AUDIO_CONTAINERS = new Set<Container>(['mp3', 'flac'])
/** Containers that carry chapters and a title through ffmpeg. */
export const CHAPTER_CONTAINERS = new Set<Container>(['mkv', 'mka', 'webm', 'mp4', 'm4a'])
const WEBM_VIDEO = new Set(['libvpx-vp9', 'libsvtav1', 'libaom-av1'])
const WEBM_AUDIO = new Set(['libopus', 'libvorbis', 'opus', 'vorbis'])

const TEXT_SUBTITLES = new Set(['subrip', 'srt', 'ass', 'ssa', 'webvtt', 'mov_text', 'text'])

/** Valid presets per encoder, so a bad profile fails before it reaches a worker's ffmpeg. */
const X26X_PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
  'placebo'
]
const PRESET_CHECKS: Record<VideoSettings['encoder'], (p: string) => boolean> = {
  libx264: p => X26X_PRESETS.includes(p),
  libx265: p => X26X_PRESETS.includes(p),
  libsvtav1: p => /^\d+$/.test(p) && Number(p) <= 13,
  'libaom-av1': p => /^\d+$/.test(p) && Number(p) <= 8,
  'libvpx-vp9': p => /^\d+$/.test(p) && Number(p) <= 8
}
const DEFAULT_PRESETS: Record<VideoSettings['encoder'], string> = {
  libx264: 'medium', libx265: 'medium', libsvtav1: '8', 'libaom-av1': '6', 'libvpx-vp9': '4'
}

function mismatch (message: string): FfmeshError {
  return new FfmeshError(ErrorCodes.PROFILE_MISMATCH, message)
}

/** SVT-AV1 (1.4) refuses a smaller picture when it opens ("Forced Max Height must be at least 64"). */
const SVT_AV1_MIN_SIDE = 64

/** Throws PROFILE_MISMATCH when the profile cannot convert this source into its container. */
export function checkProfileFits (info: MediaInfo, profile: Profile): void {
  const name = `profile "${profile.name}"`
  if (profile.kind === 'image' && info.kind !== 'image') {
    throw mismatch(`${name} converts images, but the source is ${info.kind}; choose a ${info.kind} profile`)
  }
  if (profile.kind === 'video' && info.kind !== 'video') {
    throw mismatch(
      `${name} converts video, but the source has no video stream (it is ${info.kind === 'image' ? 'an image' : 'audio only'}); choose a${info.kind === 'image' ? 'n image' : 'n audio'} profile`
    )
  }
  if (profile.kind === 'audio') {
    if (info.audioTracks === 0) throw mismatch(`${name} converts audio, but the source has no audio track`)
    if (SINGLE_AUDIO_CONTAINERS.has(profile.container) && info.audioTracks > 1) {
      throw mismatch(
        `${name} writes ${profile.container}, which holds one audio track, but the source has ${info.audioTracks}; choose a profile with mka, m4a or opus`
      )
    }
  }
  if (profile.video != null) {
    const preset = profile.video.preset
    if (preset != null && !PRESET_CHECKS[profile.video.encoder](preset)) {
      throw mismatch(`${name}: "${preset}" is not a preset of ${profile.video.encoder}`)
    }
    if (profile.container === 'webm' && !WEBM_VIDEO.has(profile.video.encoder)) {
      throw mismatch(`${name}: webm holds VP9 or AV1 only, not ${profile.video.encoder}`)
    }
    const picture = info.picture
    if (profile.video.encoder === 'libsvtav1' && picture != null && Math.min(picture.width, picture.height) < SVT_AV1_MIN_SIDE) {
      throw mismatch(
        `${name}: SVT-AV1 encodes pictures of at least ${SVT_AV1_MIN_SIDE}x${SVT_AV1_MIN_SIDE}, and the source's is ${picture.width}x${picture.height}; choose another profile, such as vp9 or h265`
      )
    }
  }
  if (profile.container === 'webm' && profile.kind === 'video') {
    const audioCodecs = typeof profile.audio === 'object'
      ? [profile.audio.encoder]
      : profile.audio === 'drop' ? [] : info.streams.filter(s => s.type === 'audio').map(s => s.codec)
    const bad = audioCodecs.find(c => !WEBM_AUDIO.has(c))
    if (bad != null) throw mismatch(`${name}: webm holds Opus or Vorbis audio only, not ${bad}`)
  }
}

/** Extension of a converted unit: segments and audio are Matroska (they keep source timestamps). */
export function unitOutputExtension (spec: { kind: UnitSpec['kind'], profile: Profile }): string {
  if (spec.kind === 'segment') return '.mkv'
  if (spec.kind === 'audio') return '.mka'
  return `.${spec.profile.container}`
}

/**
 * Encoder arguments for the video stream; timestamps pass through unless the profile sets a rate.
 * A thread limit (the node's worker.threads when set, else the profile's) goes to the encoder in
 * the form it obeys: x265 and SVT-AV1 ignore ffmpeg 5.1's `-threads` and size their own pools to
 * the machine (measured here with `-threads 1`: x265 used 1.7 cores, SVT-AV1 1.8), and x265 binds
 * its pool to every CPU of the NUMA node, past taskset or systemd's CPUAffinity. x265 takes
 * `pools` (`none` runs it on ffmpeg's own thread, inside the process's affinity); SVT-AV1 `lp`.
 */
export function videoEncoderArgs (video: VideoSettings, threads?: number): string[] {
  const preset = video.preset ?? DEFAULT_PRESETS[video.encoder]
  const q = String(video.quality)
  const limit = threadLimit(video, threads)
  const args = ['-c:v', video.encoder]
  switch (video.encoder) {
    case 'libx264':
      args.push('-crf', q, '-preset', preset)
      break
    case 'libx265':
      args.push('-crf', q, '-preset', preset, '-x265-params', x265Params(limit))
      break
    case 'libsvtav1':
      args.push('-crf', q, '-preset', preset, ...(limit == null ? [] : ['-svtav1-params', `lp=${limit}`]))
      break
    case 'libaom-av1':
      args.push('-crf', q, '-b:v', '0', '-cpu-used', preset, '-row-mt', '1')
      break
    case 'libvpx-vp9':
      args.push('-crf', q, '-b:v', '0', '-deadline', 'good', '-cpu-used', preset, '-row-mt', '1')
      break
  }
  if (video.pixelFormat != null) args.push('-pix_fmt', video.pixelFormat)
  if (video.frameRate != null) args.push('-r', String(video.frameRate), '-fps_mode', 'cfr')
  // The encoder's default time base is 1/frame rate, which moves frames that are not on that grid
  // (true VFR, or NTSC rates under copied source timestamps); the input's own time base keeps them.
  else args.push('-fps_mode', 'passthrough', '-enc_time_base', '-1')
  if (limit != null) args.push('-threads', String(limit))
  return args
}

/** The thread limit of a video unit: the node's worker.threads when set, else the profile's; null for none. */
function threadLimit (video: VideoSettings, threads?: number): number | null {
  const t = threads != null && threads > 0 ? threads : video.threads
  return t != null && t > 0 ? t : null
}

/**
 * Input options (before `-i`) holding the decoder to the same limit. ffmpeg's video decoders size
 * their frame threads to the machine (measured: 4 threads in all on 2 CPUs for a one-thread x264
 * encode, 1 with this), so without it a "one thread" unit still spreads its decoding over every core.
 */
export function decoderThreadArgs (video: VideoSettings, threads?: number): string[] {
  const limit = threadLimit(video, threads)
  return limit == null ? [] : ['-threads', String(limit)]
}

/** x265's own options: quiet, and its pool held to the limit (`none`: no pool, ffmpeg's thread). */
function x265Params (limit: number | null): string {
  return limit == null ? 'log-level=error' : `log-level=error:pools=${limit === 1 ? 'none' : limit}`
}

/** Encoder arguments for every audio stream of the output. */
export function audioEncoderArgs (audio: Profile['audio']): string[] {
  if (audio == null || audio === 'copy') return ['-c:a', 'copy']
  if (audio === 'drop') return []
  const args = ['-c:a', audio.encoder]
  if (audio.bitrateKbps != null) args.push('-b:a', `${audio.bitrateKbps}k`)
  const layouts = CHANNEL_LAYOUTS[audio.encoder]
  if (layouts != null) args.push('-af', `aformat=channel_layouts=${layouts}`)
  return args
}

/** The layouts Vorbis defines, which Opus takes over (its channel mapping family 1). */
const VORBIS_LAYOUTS = 'mono|stereo|3.0|quad|5.0|5.1|6.1|7.1'

/**
 * The channel layouts an encoder writes as its format defines them. ffmpeg's AC-3 and DTS decoders
 * give a film's 5.1 as 5.1(side), and ffmpeg 5.1 does not convert it for these encoders itself:
 * libopus refuses it ("Invalid channel layout 5.1(side)"), so every film with such a track failed;
 * the AAC encoder writes it with a program config element, which ffprobe reads back as an
 * "unknown" layout and some hardware players do not decode; libvorbis writes some layouts in the
 * wrong channel order. Given the list, ffmpeg picks the nearest layout: 5.1(side) becomes 5.1, its
 * side pair the back pair, as players expect. LAME converts to stereo itself; FLAC keeps any layout.
 */
const CHANNEL_LAYOUTS: Partial<Record<AudioEncoder, string>> = {
  libopus: VORBIS_LAYOUTS,
  libvorbis: VORBIS_LAYOUTS,
  aac: 'mono|stereo|2.1|3.0|4.0|quad|5.0|5.1|7.1'
}

/** The audio of a video profile is converted (an audio unit) only when it names an encoder. */
export function convertsAudio (profile: Profile): boolean {
  return typeof profile.audio === 'object'
}

export function keepsAudio (profile: Profile): boolean {
  return profile.audio !== 'drop'
}

export function imageEncoderArgs (profile: Profile): string[] {
  const image = profile.image
  if (image == null) throw mismatch(`profile "${profile.name}" has no image settings`)
  return ['-frames:v', '1', '-c:v', image.encoder, '-quality', String(image.quality)]
}

/**
 * The codec a source subtitle becomes in a container, or null when the container cannot hold it
 * (bitmap subtitles in mp4/webm are dropped; verifyOutput expects exactly these).
 */
export function subtitleCodecFor (container: Container, codec: string): string | null {
  const text = TEXT_SUBTITLES.has(codec)
  if (container === 'mp4') return text ? 'mov_text' : null
  if (container === 'webm') return text ? 'webvtt' : null
  if (container === 'mkv') return codec === 'mov_text' ? 'srt' : 'copy'
  return null
}

/** The source's subtitle streams the profile keeps, each with the codec it becomes. */
export function keptSubtitles (
  info: { streams: MediaStream[] },
  profile: Profile
): Array<{ stream: MediaStream; codec: string }> {
  if (profile.subtitles === 'drop' || profile.kind !== 'video') return []
  return info.streams.flatMap(stream => {
    const codec = stream.type === 'subtitle' ? subtitleCodecFor(profile.container, stream.codec) : null
    return codec == null ? [] : [{ stream, codec }]
  })
}

/**
 * Map and codec arguments for the source's subtitle streams as the profile says; `input` is the
 * ffmpeg input index of the source. Returns the arguments and how many streams they keep.
 */
export function subtitleArgs (
  info: { streams: MediaStream[] },
  profile: Profile,
  input: number
): { args: string[]; kept: number } {
  const kept = keptSubtitles(info, profile)
  return {
    args: kept.flatMap(({ stream, codec }, i) => ['-map', `${input}:${stream.index}`, `-c:s:${i}`, codec]),
    kept: kept.length
  }
}

/** Attachments (fonts for ASS subtitles, cover images) survive only in Matroska. */
export function attachmentArgs (info: { streams: MediaStream[] }, profile: Profile, input: number): string[] {
  if (profile.container !== 'mkv' || !info.streams.some(s => s.type === 'attachment')) return []
  return ['-map', `${input}:t`, '-c:t', 'copy']
}
