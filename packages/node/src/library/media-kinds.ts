import path from 'node:path'
import type { KindProfiles, MediaKind } from '@ffmesh/protocol'

/**
 * What a library file is, by its extension: a scan of 10,000 files cannot run ffprobe on each
 * before queueing (0.15-0.5 s a probe here), so the extension picks the profile and the job's probe
 * confirms it later, switching to the profile of the kind it finds.
 */
const EXTENSIONS: Record<MediaKind, readonly string[]> = {
  video: [
    'mkv',
    'mp4',
    'm4v',
    'avi',
    'mov',
    'wmv',
    'flv',
    'webm',
    'ts',
    'm2ts',
    'mts',
    'mpg',
    'mpeg',
    'vob',
    '3gp',
    'ogv',
    'divx'
  ],
  audio: ['mp3', 'flac', 'wav', 'm4a', 'aac', 'ogg', 'oga', 'opus', 'wma', 'aiff', 'aif', 'ape', 'wv', 'mka', 'alac'],
  image: ['jpg', 'jpeg', 'png', 'bmp', 'tif', 'tiff', 'gif', 'webp', 'heic']
}
const KIND_OF = new Map<string, MediaKind>(
  Object.entries(EXTENSIONS).flatMap(([kind, exts]) => exts.map(e => [e, kind as MediaKind]))
)

/** Files that belong to a video of the same base name (Kodi, Plex and Jellyfin read them beside it). */
const SIDECAR_EXTENSIONS = new Set([
  'srt',
  'ass',
  'ssa',
  'sub',
  'idx',
  'vtt',
  'sup',
  'nfo',
  'jpg',
  'jpeg',
  'png',
  'webp',
  'tbn',
  'txt'
])

export const extensionOf = (name: string): string => path.extname(name).slice(1).toLowerCase()

export function kindByExtension (name: string): MediaKind | null {
  return KIND_OF.get(extensionOf(name)) ?? null
}

export interface ClassifiedFile { name: string, kind: MediaKind, sidecars: string[] }

/**
 * The media files of one folder that the library has a profile for, each with its sidecars:
 * files named after a video's stem (`E01.en.srt`, `E01.nfo`, `E01-poster.jpg`). A poster is a
 * sidecar, not an image to convert.
 */
export function classifyFolder (names: readonly string[], profiles: KindProfiles): ClassifiedFile[] {
  const videoStems = names
    .filter(n => kindByExtension(n) === 'video')
    .map(n => n.slice(0, n.length - path.extname(n).length))
  const sidecarOf = (name: string): string | null => {
    if (!SIDECAR_EXTENSIONS.has(extensionOf(name))) return null
    return (
      videoStems.find(
        stem =>
          name.length > stem.length && name.startsWith(stem) && (name[stem.length] === '.' || name[stem.length] === '-')
      ) ?? null
    )
  }
  const sidecars = new Map<string, string[]>()
  const media: Array<{ name: string, kind: MediaKind }> = []
  for (const name of names) {
    const kind = kindByExtension(name)
    const owner = kind === 'video' ? null : sidecarOf(name)
    if (owner != null) {
      sidecars.set(owner, [...(sidecars.get(owner) ?? []), name])
      continue
    }
    if (kind != null && profiles[kind] != null) media.push({ name, kind })
  }
  return media.map(m => ({
    ...m,
    sidecars:
      m.kind === 'video' ? (sidecars.get(m.name.slice(0, m.name.length - path.extname(m.name).length)) ?? []) : []
  }))
}
