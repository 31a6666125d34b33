import { z } from 'zod'
import { PROFILE_NAME_PATTERN } from './limits.js'

/**
 * A profile is data, never ffmpeg arguments: offers carry it across the network and each worker
 * checks it against this schema and maps it to arguments itself (SECURITY.md, "What a key holder
 * cannot do").
 */
export const VideoEncoders = ['libx264', 'libx265', 'libsvtav1', 'libaom-av1', 'libvpx-vp9'] as const
export const AudioEncoders = ['aac', 'libopus', 'libmp3lame', 'flac', 'libvorbis'] as const
export const ImageEncoders = ['libwebp'] as const
export const Containers = ['mkv', 'mp4', 'webm', 'mka', 'opus', 'm4a', 'mp3', 'flac', 'webp'] as const

export type VideoEncoder = typeof VideoEncoders[number]
export type AudioEncoder = typeof AudioEncoders[number]
export type Container = typeof Containers[number]
/** The pictures a video profile may write: 4:2:0 chroma, which every player decodes, at 8 or 10 bits. */
export const PixelFormats = ['yuv420p', 'yuv420p10le'] as const
export type PixelFormat = typeof PixelFormats[number]
/**
 * Which frames a video profile deinterlaces: `auto`, those a source flags as interlaced when its
 * stream says it is (a DVD, a TV recording); `always`, every frame of every source, for one whose
 * flags say progressive though its frames are combed; `off`, none.
 */
export const DeinterlaceModes = ['auto', 'always', 'off'] as const
export type DeinterlaceMode = typeof DeinterlaceModes[number]
/**
 * What a video profile does with HDR (a PQ or HLG transfer): `keep` it (at 10 bits), or `tonemap`
 * it to SDR BT.709, which a screen without HDR shows with its highlights and colours in range.
 */
export const HdrModes = ['keep', 'tonemap'] as const
export type HdrMode = typeof HdrModes[number]
/** The frames a unit deinterlaces (UnitSpec.deinterlace): those flagged interlaced, or every one. */
export const DeinterlacedFrames = ['interlaced', 'all'] as const
export type DeinterlacedFrame = typeof DeinterlacedFrames[number]

const presetSchema = z
  .string()
  .regex(/^[a-z0-9]{1,16}$/, 'a preset is a short lowercase word or number, such as "medium" or "8"')

export const VideoSettingsSchema = z.strictObject({
  encoder: z.enum(VideoEncoders),
  /** Constant-quality value in the encoder's own scale (x264/x265 CRF, SVT-AV1/VP9 CRF). */
  quality: z.number().int().min(0).max(63),
  preset: presetSchema.optional(),
  /** Sets a constant output rate; without it timestamps pass through and VFR stays VFR. */
  frameRate: z.number().positive().max(1000).optional(),
  /**
   * Unset: 4:2:0 at 8 bits for x264 (10-bit H.264 plays on few devices) but 10 for HDR kept as HDR,
   * and at the source's depth up to 10 bits for the other encoders (the node's media/picture-format.ts).
   */
  pixelFormat: z.enum(PixelFormats).optional(),
  /** Unset: `auto`. */
  deinterlace: z.enum(DeinterlaceModes).optional(),
  /** Unset: `keep`. */
  hdr: z.enum(HdrModes).optional(),
  /** Threads per ffmpeg process; 0 lets the encoder choose. */
  threads: z.number().int().min(0).max(64).optional()
})

export const AudioSettingsSchema = z.strictObject({
  encoder: z.enum(AudioEncoders),
  bitrateKbps: z.number().int().min(8).max(1536).optional()
})

export const ImageSettingsSchema = z.strictObject({
  encoder: z.enum(ImageEncoders),
  quality: z.number().int().min(0).max(100)
})

export const ProfileSchema = z.strictObject({
  name: z.string().regex(PROFILE_NAME_PATTERN, 'a profile name is lowercase letters, digits, - and _'),
  description: z.string().max(200).optional(),
  kind: z.enum(['video', 'audio', 'image']),
  container: z.enum(Containers),
  video: VideoSettingsSchema.optional(),
  /** `copy` keeps audio as it is; `drop` removes it. */
  audio: z.union([AudioSettingsSchema, z.literal('copy'), z.literal('drop')]).optional(),
  subtitles: z.enum(['copy', 'drop']).default('copy'),
  image: ImageSettingsSchema.optional()
}).superRefine((p, ctx) => {
  if (p.kind === 'video' && p.video == null) {
    ctx.addIssue({ code: 'custom', message: 'a video profile needs `video` settings', path: ['video'] })
  }
  if (p.kind === 'audio' && (p.audio == null || typeof p.audio === 'string')) {
    ctx.addIssue({ code: 'custom', message: 'an audio profile needs `audio` encoder settings', path: ['audio'] })
  }
  if (p.kind === 'image' && p.image == null) {
    ctx.addIssue({ code: 'custom', message: 'an image profile needs `image` settings', path: ['image'] })
  }
})

export type Profile = z.infer<typeof ProfileSchema>

/** The encoders a profile needs, so a worker can refuse with UNSUPPORTED_PROFILE up front. */
export function profileEncoders (profile: Profile): string[] {
  const out: string[] = []
  if (profile.kind === 'video' && profile.video != null) out.push(profile.video.encoder)
  if (profile.audio != null && typeof profile.audio !== 'string') out.push(profile.audio.encoder)
  if (profile.kind === 'image' && profile.image != null) out.push(profile.image.encoder)
  return out
}

const defaults: Profile[] = [
  {
    name: 'h264',
    description: 'H.264 (x264 CRF 23) + AAC in Matroska',
    kind: 'video',
    container: 'mkv',
    video: { encoder: 'libx264', quality: 23, preset: 'medium' },
    audio: { encoder: 'aac', bitrateKbps: 160 },
    subtitles: 'copy'
  },
  {
    name: 'h265',
    description: 'H.265 (x265 CRF 28) + AAC in Matroska',
    kind: 'video',
    container: 'mkv',
    video: { encoder: 'libx265', quality: 28, preset: 'medium' },
    audio: { encoder: 'aac', bitrateKbps: 160 },
    subtitles: 'copy'
  },
  {
    name: 'av1',
    description: 'AV1 (SVT-AV1 CRF 35, preset 8) + Opus in Matroska',
    kind: 'video',
    container: 'mkv',
    video: { encoder: 'libsvtav1', quality: 35, preset: '8' },
    audio: { encoder: 'libopus', bitrateKbps: 128 },
    subtitles: 'copy'
  },
  {
    name: 'vp9',
    description: 'VP9 (libvpx CRF 33) + Opus in Matroska',
    kind: 'video',
    container: 'mkv',
    video: { encoder: 'libvpx-vp9', quality: 33, preset: '4' },
    audio: { encoder: 'libopus', bitrateKbps: 128 },
    subtitles: 'copy'
  },
  {
    name: 'opus',
    description: 'Opus 128 kb/s in Ogg',
    kind: 'audio',
    container: 'opus',
    audio: { encoder: 'libopus', bitrateKbps: 128 },
    subtitles: 'drop'
  },
  {
    name: 'aac',
    description: 'AAC 192 kb/s in M4A',
    kind: 'audio',
    container: 'm4a',
    audio: { encoder: 'aac', bitrateKbps: 192 },
    subtitles: 'drop'
  },
  {
    name: 'mp3',
    description: 'MP3 192 kb/s',
    kind: 'audio',
    container: 'mp3',
    audio: { encoder: 'libmp3lame', bitrateKbps: 192 },
    subtitles: 'drop'
  },
  {
    name: 'flac',
    description: 'FLAC, lossless',
    kind: 'audio',
    container: 'flac',
    audio: { encoder: 'flac' },
    subtitles: 'drop'
  },
  {
    name: 'webp',
    description: 'WebP image, quality 80',
    kind: 'image',
    container: 'webp',
    image: { encoder: 'libwebp', quality: 80 },
    subtitles: 'drop'
  }
]

export const DEFAULT_PROFILES: readonly Profile[] = Object.freeze(defaults.map(p => ProfileSchema.parse(p)))

/** File extension for a container. */
export function containerExtension (container: Container): string {
  return container
}
