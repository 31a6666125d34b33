/**
 * The picture a video unit writes. Left alone, an encoder keeps the source's chroma and depth:
 * x264 turns a stills camera's full-range 4:2:2 Motion-JPEG into High 4:2:2 and a 4:4:4 screen
 * capture into High 4:4:4, which phones, TVs and browsers do not decode; and in 4:2:0 x264 and
 * x265 refuse an odd width or height ("width not divisible by 2"), which a cropped or captured
 * video may have. So unless the profile names a format, a unit writes 4:2:0: at 8 bits for x264
 * (10-bit H.264 plays on few devices), but for HDR kept as HDR, whose PQ or HLG curve bands at
 * 8 bits; at the source's depth up to 10 bits for the others (Main 10, AV1 and VP9 profile 2
 * decode widely); and the odd last column or row is cropped.
 */
import type { PixelFormat, Profile, VideoEncoder } from '@ffmesh/protocol'
import type { MediaInfo, SourcePicture } from './probe.js'
import { isHdr, unitToneMap } from './tone-map.js'

/** More than 8 bits a sample: ffmpeg names such formats by depth and byte order (yuv420p10le, p010le, rgb48le). */
const DEEP_FORMAT = /(?:9|1[0-6]|48|64)(?:le|be)$/

/** Cuts the width and height down to even; a crop of the size a picture already has changes nothing. */
const EVEN_CROP = 'crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0'

export function isDeepFormat (pixelFormat: string): boolean {
  return DEEP_FORMAT.test(pixelFormat)
}

/** The format a profile's encoder writes for a source picture, when the profile names none. */
export function defaultPixelFormat (encoder: VideoEncoder, source: SourcePicture): PixelFormat {
  const deep = isDeepFormat(source.pixelFormat)
  if (encoder === 'libx264') return deep && isHdr(source) ? 'yuv420p10le' : 'yuv420p'
  return deep ? 'yuv420p10le' : 'yuv420p'
}

/**
 * The format a video unit of this job must be told (UnitSpec.pixelFormat), or null where a worker
 * that is told nothing writes the right picture anyway: it sets the profile's format, else keeps
 * the source's. A tone-mapped picture is SDR and is always told (its filters end in float RGB).
 * Null when the probe did not say what the picture is (a job logged by an older node), which
 * leaves the worker as it was.
 */
export function unitPixelFormat (info: MediaInfo, profile: Profile): PixelFormat | null {
  const video = profile.kind === 'video' ? profile.video : undefined
  const picture = info.picture
  if (video == null || picture == null) return null
  const toneMapped = unitToneMap(info, profile)
  // Tone mapped, the picture is SDR: what the encoder writes for SDR at the source's depth.
  const written = toneMapped ? { ...picture, transfer: 'bt709' } : picture
  const target = video.pixelFormat ?? defaultPixelFormat(video.encoder, written)
  const odd = picture.width % 2 !== 0 || picture.height % 2 !== 0
  const untoldWritesTarget = video.pixelFormat != null || picture.pixelFormat === target
  return odd || toneMapped || !untoldWritesTarget ? target : null
}

/** The filters that make a unit's picture `pixelFormat` at an even size; none when the spec names no format. */
export function pictureFilters (pixelFormat: PixelFormat | undefined): string[] {
  return pixelFormat == null ? [] : [EVEN_CROP, `format=${pixelFormat}`]
}
