import { rm } from 'node:fs/promises'
import type { Profile } from '@ffmesh/protocol'
import { inputArgs, mediaPath, outputArgs } from './ffmpeg-args.js'
import type { MediaStream } from './probe.js'
import { attachmentArgs } from './profile-args.js'
import type { FfmpegRunner } from './runner.js'

/**
 * Cover art: a picture that comes with the media (MP4 `covr`, an MP3's ID3 APIC frame, a FLAC
 * PICTURE block, a Matroska attachment named cover.jpg). ffmpeg shows each as a one-frame video
 * stream with the attached_pic disposition; a conversion copies it as it is.
 *
 * Matroska stores cover art as an attachment, but ffmpeg 5.1's Matroska muxer would write such a
 * stream as a second video track of one frame (measured: the attached_pic disposition is lost),
 * so for Matroska the picture is taken out into a file and attached (`-attach`); ffmpeg reads an
 * image attachment back as cover art. MP4, M4A, MP3 and FLAC take the stream itself. Ogg (opus)
 * and WebM have no place for it in ffmpeg 5.1: there it is dropped, and the check expects that.
 */

type Container = Profile['container']

/** Containers that take cover art as a stream with the attached_pic disposition. */
const PICTURE_STREAM_CONTAINERS = new Set<Container>(['mp4', 'm4a', 'mp3', 'flac'])
/** Containers that take it as an attachment. */
const ATTACHMENT_CONTAINERS = new Set<Container>(['mkv', 'mka'])

/** Name and type of an attachment, by picture codec, where the source names none. */
const PICTURE_FILES = new Map<string, { ext: string, mimetype: string }>(Object.entries({
  mjpeg: { ext: 'jpg', mimetype: 'image/jpeg' },
  png: { ext: 'png', mimetype: 'image/png' },
  bmp: { ext: 'bmp', mimetype: 'image/bmp' },
  gif: { ext: 'gif', mimetype: 'image/gif' },
  webp: { ext: 'webp', mimetype: 'image/webp' },
  tiff: { ext: 'tiff', mimetype: 'image/tiff' }
}))

/** The source's cover pictures a profile's container keeps. */
export function keptCoverArt (info: { streams: MediaStream[] }, profile: Profile): MediaStream[] {
  if (!PICTURE_STREAM_CONTAINERS.has(profile.container) && !ATTACHMENT_CONTAINERS.has(profile.container)) return []
  return info.streams.filter(
    s =>
      s.type === 'video' &&
      s.attachedPic &&
      (PICTURE_STREAM_CONTAINERS.has(profile.container) || PICTURE_FILES.has(s.codec))
  )
}

export interface CoverArt {
  /** Output arguments that keep the pictures; the caller's output must not map them otherwise. */
  args: string[]
  /** Removes the files the pictures were taken out into. */
  cleanup: () => Promise<void>
}

export interface CoverArtInit {
  streams: MediaStream[]
  profile: Profile
  /** The source's path and its input index in the caller's ffmpeg run. */
  source: string
  input: number
  /** The output has the main video before the pictures (a video job); an audio job has none. */
  withVideo: boolean
  /** Prefix of the files pictures are taken out into (the output's temp path). */
  scratch: string
}

/**
 * Arguments that carry the source's cover art into the output (see the module comment). They come
 * after the caller's own maps and codecs: after attachmentArgs' attachments, and after the video
 * encoder's `-c:v`, which would otherwise encode the pictures too.
 */
export async function coverArtArgs (
  runner: FfmpegRunner,
  init: CoverArtInit,
  options: { signal?: AbortSignal } = {}
): Promise<CoverArt> {
  const pictures = keptCoverArt(init, init.profile)
  const none = { args: [], cleanup: async () => {} }
  if (pictures.length === 0) return none
  if (PICTURE_STREAM_CONTAINERS.has(init.profile.container)) {
    return {
      ...none,
      args: pictures.flatMap((s, i) => {
        const out = (init.withVideo ? 1 : 0) + i
        return ['-map', `${init.input}:${s.index}`, `-c:v:${out}`, 'copy', `-disposition:v:${out}`, 'attached_pic']
      })
    }
  }
  const attachmentsBefore =
    attachmentArgs(init, init.profile, init.input).length > 0
      ? init.streams.filter(s => s.type === 'attachment').length
      : 0
  const files: string[] = []
  const cleanup = async (): Promise<void> => {
    for (const f of files) await rm(f, { force: true })
  }
  try {
    const args: string[] = []
    for (const [i, s] of pictures.entries()) {
      const kind = PICTURE_FILES.get(s.codec) as { ext: string; mimetype: string }
      const file = `${init.scratch}.cover-${i}.${kind.ext}`
      files.push(file)
      // The picture is one packet, read first: the rawvideo muxer writes its bytes as they are.
      await runner.run(
        [
          ...inputArgs(init.source),
          '-map',
          `0:${s.index}`,
          '-c',
          'copy',
          '-frames:v',
          '1',
          ...outputArgs(file, 'rawvideo')
        ],
        options
      )
      const out = attachmentsBefore + i
      args.push(
        '-attach',
        mediaPath(file),
        `-metadata:s:t:${out}`,
        `mimetype=${s.mimetype ?? kind.mimetype}`,
        `-metadata:s:t:${out}`,
        `filename=${s.filename ?? `cover.${kind.ext}`}`
      )
    }
    return { args, cleanup }
  } catch (err) {
    await cleanup()
    throw err
  }
}
