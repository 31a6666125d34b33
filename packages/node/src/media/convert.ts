import { resolve } from 'node:path'
import { FfmeshError, ErrorCodes, type Profile, type UnitSpec } from '@ffmesh/protocol'
import { concatInput, inputArgs, outputArgs, secondsArg } from './ffmpeg-args.js'
import { coverArtArgs } from './cover-art.js'
import { countFrames, mainVideoOf, readProbe, toStreams, type UnitMeasure } from './probe.js'
import { measureResult } from './result-check.js'
import {
  attachmentArgs,
  audioEncoderArgs,
  CONTAINER_MUXERS,
  decoderThreadArgs,
  imageEncoderArgs,
  subtitleArgs,
  videoEncoderArgs
} from './profile-args.js'
import { deinterlaceFilters } from './deinterlace.js'
import { pictureFilters } from './picture-format.js'
import { rotationFilters } from './rotation.js'
import { toneMapFilters } from './tone-map.js'
import type { FfmpegRunner } from './runner.js'

/** A floor for every unit: process start, probing and muxing take seconds even for 1 s of media. */
export const MIN_CONVERT_TIMEOUT_MS = 10 * 60_000
/**
 * Allowance per second of media. The slowest default (SVT-AV1 preset 8 on 4K on one core) runs
 * about 20× slower than real time; 60× leaves room for slower machines and busy cores.
 */
export const CONVERT_TIMEOUT_MS_PER_MEDIA_SEC = 60_000

/**
 * Below a range boundary by this much, so a frame exactly at the boundary is kept by one unit
 * only, whatever the float rounding (timestamps are at least 1/90000 s apart in TS, 1 ms in MKV).
 */
export const RANGE_EPSILON_SEC = 0.0001

export function convertTimeoutMs (durationSec: number): number {
  return MIN_CONVERT_TIMEOUT_MS + Math.ceil(Math.max(0, durationSec) * CONVERT_TIMEOUT_MS_PER_MEDIA_SEC)
}

export interface ConvertInit {
  spec: UnitSpec
  /** Local paths in spec.inputs order. */
  inputs: string[]
  outFile: string
  /** Threads for this ffmpeg (the node's worker.threads); overrides the profile's. */
  threads?: number
}

export interface ConvertOptions {
  signal?: AbortSignal
  onProgress?: (fraction: number) => void
  timeoutMs?: number
  /**
   * False: a segment reports the frames ffmpeg says it encoded instead of reading its output back
   * (measureResult). For a remote owner, which counts the frames of every result it receives and
   * trusts nothing the worker says about them: the two counts come from different reads.
   */
  probeOutput?: boolean
}

/**
 * Converts one unit. Returns what measureResult reads from the output: for segment and whole units
 * the video frames written (1 for an image), for an audio unit the packets of its first audio
 * track (which the caller does not compare: its expectedFrames is null).
 */
export async function convertUnit (
  runner: FfmpegRunner,
  init: ConvertInit,
  options: ConvertOptions = {}
): Promise<UnitMeasure> {
  const { spec } = init
  const inputs = init.inputs.map(f => resolve(f))
  if (inputs.length !== spec.inputs.length || inputs.length === 0) {
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      `unit ${spec.index} needs ${spec.inputs.length} input files, got ${inputs.length}`
    )
  }
  const outFile = resolve(init.outFile)
  let args: string[]
  let stdin: string[] | undefined
  let cleanup = async (): Promise<void> => {}
  if (spec.kind === 'segment') ({ args, stdin } = segmentArgs(spec, inputs, outFile, init.threads))
  else if (spec.kind === 'audio') args = audioUnitArgs(spec, inputs[0] as string, outFile)
  else ({ args, cleanup } = await wholeArgs(runner, spec, inputs[0] as string, outFile, init.threads, options))

  const onProgress = options.onProgress
  // ffmpeg 5.1 under -copyts reports out_time from its first progress report, not from the first
  // frame, so a segment (always -copyts) measures progress in frames of its own piece instead.
  const ownFrames =
    onProgress == null || spec.kind !== 'segment'
      ? 0
      : (spec.frames ?? (await countFrames(runner, inputs.at(-1) as string, options)).frames)
  let encoded = 0
  try {
    await runner.run(args, {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? convertTimeoutMs(spec.durationSec),
      stdin,
      onProgress: p => {
        encoded = p.frame
        if (onProgress == null) return
        const done = ownFrames > 0 ? p.frame / ownFrames : spec.durationSec > 0 ? p.outTimeSec / spec.durationSec : 0
        onProgress(Math.min(1, Math.max(0, done)))
      }
    })
  } finally {
    await cleanup()
  }
  if (options.probeOutput === false && spec.kind === 'segment') {
    return { frames: encoded, durationSec: spec.durationSec, startSec: null }
  }
  return await measureResult(runner, outFile, spec.kind, options)
}

/**
 * A segment keeps source timestamps (-copyts) and only the frames of its own piece, chosen by
 * source time; the pre-roll piece is decoded for reference and dropped by the select filter.
 */
function segmentArgs (
  spec: UnitSpec,
  inputs: string[],
  outFile: string,
  threads?: number
): { args: string[]; stdin?: string[] } {
  const video = spec.profile.video
  if (video == null || spec.range == null) {
    throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `segment unit ${spec.index} needs a video profile and a range`)
  }
  const { start, end } = spec.range
  const keep =
    end == null
      ? `gte(t\\,${secondsArg(start - RANGE_EPSILON_SEC)})`
      : `gte(t\\,${secondsArg(start - RANGE_EPSILON_SEC)})*lt(t\\,${secondsArg(end - RANGE_EPSILON_SEC)})`
  let input: { args: string[]; stdin?: string[] }
  if (inputs.length === 1) {
    input = { args: inputArgs(inputs[0] as string, spec.inputFormat === 'source' ? {} : { format: spec.inputFormat }) }
  } else if (spec.inputFormat === 'mpegts') {
    // TS pieces are byte-concatenable: pre-roll then own piece, read as one input.
    input = concatInput(inputs, 'mpegts')
  } else {
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      `segment unit ${spec.index}: a pre-roll needs MPEG-TS pieces, not ${spec.inputFormat}`
    )
  }
  // The piece has no display matrix to autorotate by: the spec says the turn (see rotation.ts).
  const filters = [
    ...deinterlaceFilters(spec.deinterlace),
    `select=${keep}`,
    ...rotationFilters(spec.rotation),
    ...toneMapFilters(spec.toneMap),
    ...pictureFilters(spec.pixelFormat)
  ].join(',')
  const args = [
    '-copyts',
    '-noautorotate',
    ...decoderThreadArgs(video, threads),
    ...input.args,
    '-map',
    '0:v:0',
    '-vf',
    filters,
    ...videoEncoderArgs(video, threads),
    '-an',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    ...outputArgs(outFile, 'matroska')
  ]
  return { args, stdin: input.stdin }
}

/** Every audio track once, with source timestamps, into Matroska. */
function audioUnitArgs (spec: UnitSpec, input: string, outFile: string): string[] {
  const audio = spec.profile.audio
  if (typeof audio !== 'object') {
    throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `audio unit ${spec.index} needs a profile with an audio encoder`)
  }
  return ['-copyts', ...inputArgs(input, spec.inputFormat === 'source' ? {} : { format: spec.inputFormat }),
    '-map', '0:a', '-vn', '-sn', '-dn', ...audioEncoderArgs(audio), ...outputArgs(outFile, 'matroska')]
}

/**
 * The whole source converted directly with the profile, every kept stream mapped; a plain ffmpeg
 * run, so it corrects a TS clock and turns a rotated picture itself.
 */
async function wholeArgs (
  runner: FfmpegRunner,
  spec: UnitSpec,
  input: string,
  outFile: string,
  threads: number | undefined,
  options: { signal?: AbortSignal }
): Promise<{ args: string[]; cleanup: () => Promise<void> }> {
  const { profile } = spec
  // The owner's probe, carried in the spec, spares this core a process start; an older spec has none.
  const info = { streams: spec.streams ?? toStreams(await readProbe(runner, input, options)) }
  const video = mainVideoOf(info.streams)
  const muxer = CONTAINER_MUXERS[profile.container]
  const args = [
    ...(profile.kind === 'video' && profile.video != null ? decoderThreadArgs(profile.video, threads) : []),
    ...inputArgs(input)
  ]
  const none = async (): Promise<void> => {}
  if (profile.kind === 'image') {
    if (video == null) {
      throw new FfmeshError(ErrorCodes.PROFILE_MISMATCH, `unit ${spec.index}: the source has no picture`)
    }
    return {
      args: [...args, '-map', `0:${video.index}`, ...imageEncoderArgs(profile), ...outputArgs(outFile, muxer)],
      cleanup: none
    }
  }
  if (profile.kind === 'video' && (video == null || profile.video == null)) {
    throw new FfmeshError(ErrorCodes.PROFILE_MISMATCH, `unit ${spec.index}: the source has no video stream`)
  }
  const kind = profile.kind === 'video' ? 'video' : 'audio'
  const cover = await coverArtArgs(
    runner,
    { streams: info.streams, profile, source: input, input: 0, withVideo: kind === 'video', scratch: outFile },
    options
  )
  if (kind === 'audio') {
    args.push('-map', '0:a', '-sn', '-dn', ...audioEncoderArgs(profile.audio))
  } else {
    args.push('-map', `0:${(video as { index: number }).index}`)
    // The main video is the first video stream out (cover art, copied, comes after it).
    const picture = [
      ...deinterlaceFilters(spec.deinterlace),
      ...toneMapFilters(spec.toneMap),
      ...pictureFilters(spec.pixelFormat)
    ]
    if (picture.length > 0) args.push('-filter:v:0', picture.join(','))
    if (profile.audio !== 'drop') args.push('-map', '0:a?', ...audioEncoderArgs(profile.audio))
    args.push(
      ...subtitleArgs(info, profile, 0).args,
      ...attachmentArgs(info, profile, 0),
      ...videoEncoderArgs(profile.video as NonNullable<Profile['video']>, threads)
    )
  }
  args.push(
    ...cover.args,
    '-map_metadata',
    '0',
    '-map_chapters',
    '0',
    ...(muxer === 'mp4' ? ['-movflags', '+faststart'] : []),
    ...outputArgs(outFile, muxer)
  )
  return { args, cleanup: cover.cleanup }
}
