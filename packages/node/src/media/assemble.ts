import { copyFile, rm, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { FfmeshError, ErrorCodes, type Profile } from '@ffmesh/protocol'
import { inputArgs, mediaPath, outputArgs, PROTOCOL_WHITELIST, secondsArg } from './ffmpeg-args.js'
import { coverArtArgs } from './cover-art.js'
import { attachmentArgs, CHAPTER_CONTAINERS, CONTAINER_MUXERS, keepsAudio, subtitleArgs } from './profile-args.js'
import { toSeconds, type MediaInfo } from './probe.js'
import type { FfmpegRunner } from './runner.js'

export interface AssembleSegment { file: string, startSec: number | null }

export interface AssembleInit {
  /** The file the plan read: the source, or its normalised copy (see normalise.ts). */
  source: string
  info: MediaInfo
  profile: Profile
  /** Converted segments in order, with their first video time when it was measured already. */
  segments: AssembleSegment[]
  /** Converted audio unit, or null when audio is copied from the source or dropped. */
  audio: string | null
  /** Converted whole unit, or null for a segmented job. */
  whole: string | null
  /** Temp path with the final extension; the caller verifies, fsyncs and renames it. */
  outFile: string
}

/**
 * Joins converted segments and muxes them with the converted audio and the source's subtitles,
 * chapters, metadata and attachments. Every input keeps source time (-copyts): the video is placed
 * at the source's first video time, and the whole output is shifted by the source's start time,
 * as a direct ffmpeg run would, so A/V offsets stay what they were.
 */
export async function assembleOutput (
  runner: FfmpegRunner,
  init: AssembleInit,
  options: { signal?: AbortSignal } = {}
): Promise<void> {
  const outFile = resolve(init.outFile)
  if (init.whole != null) {
    // A whole unit was converted straight into the final container.
    await copyFile(resolve(init.whole), outFile)
    return
  }
  if (init.segments.length === 0) {
    throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, 'nothing to assemble: no segments and no whole unit')
  }
  const { info, profile } = init
  const source = resolve(init.source)
  const listFile = `${outFile}.concat.txt`
  let cleanup = async (): Promise<void> => {}
  try {
    await writeFile(
      listFile,
      await concatList(
        runner,
        init.segments.map(s => ({ file: resolve(s.file), startSec: s.startSec })),
        options
      )
    )
    const args = [
      '-copyts',
      '-protocol_whitelist',
      PROTOCOL_WHITELIST,
      '-itsoffset',
      secondsArg(info.videoStartTime ?? info.startTime),
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      mediaPath(listFile)
    ]
    let sourceInput = 1
    if (init.audio != null) {
      args.push(...inputArgs(init.audio))
      sourceInput = 2
    }
    args.push(...inputArgs(source))
    args.push('-map', '0:v:0', '-c', 'copy')
    if (init.audio != null) args.push('-map', '1:a')
    else if (keepsAudio(profile) && info.audioTracks > 0) args.push('-map', `${sourceInput}:a`)
    const cover = await coverArtArgs(
      runner,
      { streams: info.streams, profile, source, input: sourceInput, withVideo: true, scratch: outFile },
      options
    )
    cleanup = cover.cleanup
    args.push(
      ...subtitleArgs(info, profile, sourceInput).args,
      ...attachmentArgs(info, profile, sourceInput),
      ...cover.args
    )
    args.push('-map_metadata', String(sourceInput))
    // A per-stream -map_metadata would turn off the default copy of every other stream's tags
    // (languages, titles, attachment mimetypes), so the video's own tags are set one by one.
    const video = info.streams.find(s => s.index === info.videoStreamIndex)
    if (video?.language != null) args.push('-metadata:s:v:0', `language=${video.language}`)
    if (video?.title != null) args.push('-metadata:s:v:0', `title=${video.title}`)
    args.push('-map_chapters', CHAPTER_CONTAINERS.has(profile.container) ? String(sourceInput) : '-1')
    const muxer = CONTAINER_MUXERS[profile.container]
    if (muxer === 'mp4') args.push('-movflags', '+faststart')
    args.push('-output_ts_offset', secondsArg(-info.startTime), ...outputArgs(outFile, muxer))
    await runner.run(args, { signal: options.signal })
  } finally {
    await rm(listFile, { force: true })
    await cleanup()
  }
}

/**
 * A concat list: each segment's `inpoint` is its first timestamp and its `duration` the gap to the
 * next segment's, so each segment starts exactly where its range starts (VFR and open-GOP ranges
 * are not whole frames of a fixed rate, and a segment's own duration would round its last frame).
 */
async function concatList (
  runner: FfmpegRunner,
  segments: AssembleSegment[],
  options: { signal?: AbortSignal }
): Promise<string> {
  const starts: number[] = []
  for (const { file: segment, startSec } of segments) {
    if (startSec != null) {
      starts.push(startSec)
      continue
    }
    // The smallest packet time, not the container's start_time: ffprobe leaves that N/A for some
    // short Matroska files.
    const probe = (await runner.probeJson(
      [
        '-protocol_whitelist',
        PROTOCOL_WHITELIST,
        '-select_streams',
        'v:0',
        '-show_entries',
        'packet=pts_time',
        mediaPath(segment)
      ],
      options
    )) as { packets?: Array<{ pts_time?: string }> }
    const times = (probe.packets ?? []).map(p => toSeconds(p.pts_time)).filter((t): t is number => t != null)
    if (times.length === 0) {
      throw new FfmeshError(
        ErrorCodes.VERIFY_FAILED,
        `converted segment ${segment} has no timed video frame; convert it again`
      )
    }
    starts.push(times.reduce((a, b) => Math.min(a, b)))
  }
  const lines = ['ffconcat version 1.0']
  segments.forEach(({ file: segment }, i) => {
    // Quotes inside a quoted concat path are written as '\'' (close, escaped quote, reopen).
    lines.push(`file '${mediaPath(segment).replace(/'/g, "'\\''")}'`)
    // Without an inpoint the demuxer offsets by the file's start_time, which ffprobe leaves N/A
    // for a short Matroska segment (then it would land a whole range late).
    lines.push(`inpoint ${secondsArg(starts[i] as number)}`)
    const next = starts[i + 1]
    if (next != null) {
      const gap = next - (starts[i] as number)
      if (gap <= 0) {
        throw new FfmeshError(ErrorCodes.VERIFY_FAILED, `converted segments ${i} and ${i + 1} are out of order`)
      }
      lines.push(`duration ${secondsArg(gap)}`)
    }
  })
  return lines.join('\n') + '\n'
}
