import { join, resolve } from 'node:path'
import type { Profile } from '@ffmesh/protocol'
import { cutVideo, removeCut, type Cut } from './cut.js'
import { mustPassOn } from './disk-full.js'
import { inputArgs, outputArgs } from './ffmpeg-args.js'
import { indexPackets } from './mp4-index.js'
import { hasBreakableClock, normaliseBeforeCut, normaliseSource, type NormaliseReason } from './normalise.js'
import { scanPackets, type PacketList } from './packet-list.js'
import { unitDeinterlace } from './deinterlace.js'
import { unitPixelFormat } from './picture-format.js'
import type { PlannedUnit } from './planned-unit.js'
import { unitToneMap } from './tone-map.js'
import { checkProfileFits, convertsAudio } from './profile-args.js'
import { probeSource, type MediaInfo } from './probe.js'
import type { FfmpegRunner } from './runner.js'

export type { PlannedUnit } from './planned-unit.js'

export interface PlanInit {
  source: string
  info: MediaInfo
  profile: Profile
  segmentSeconds: number
  workDir: string
  /** Final segments cut smaller so workers finish together (see cutTimes); the mesh's slot count. */
  tailSegments?: number
  /** False when the caller already has the audio unit (from planAudioFirst): the plan leaves it out. */
  audio?: boolean
  /** One whole unit, not cut (the owner's choice for a batch, a short file or a mesh of one slot). */
  whole?: boolean
}

/** A video shorter than this many segments is one unit: splitting it gains nothing. */
const MIN_SEGMENTS_TO_SPLIT = 2
/** A whole-file plan's packet list (see packet-list.ts), in the work dir. */
const SCAN_LIST_NAME = 'scan-packets.crc'

export interface PlanResult {
  units: PlannedUnit[]
  /**
   * The source's video frames (MediaInfo.videoFrames): the probe's, or counted by the plan where
   * the probe left them out and the plan or the output check needs them; otherwise null.
   */
  videoFrames: number | null
  /**
   * The source as the plan found it (its frame count, where each stream ends; the normalised
   * copy's streams when there is one): what assembly and the output check go by.
   */
  info?: MediaInfo
  /** An honest copy of the source (see normalise.ts) that the units and the assembly read instead of it, or null. */
  normalised?: string | null
}

type Opts = { signal?: AbortSignal }

/**
 * Splits a source into the units a job converts; see PlannedUnit. A source whose timestamps cannot
 * be cut as they are is first copied into an honest one (normalise.ts): before the cut when its
 * probe says so (no presentation times), after it when the cut's packet list shows a TS clock that
 * jumps or wraps.
 */
export async function planSource (runner: FfmpegRunner, init: PlanInit, options: Opts = {}): Promise<PlanResult> {
  checkProfileFits(init.info, init.profile)
  const original = { source: resolve(init.source), info: init.info }
  const first = init.info.kind === 'video' ? normaliseBeforeCut(init.info) : null
  const start = first != null ? await normalised(runner, original, first, init, options) : original
  const plan = await planFile(
    runner,
    start.source,
    start.info,
    { ...init, wholeOnly: first != null && init.audio === false },
    first == null,
    options
  )
  if (plan != null) return { ...pictured(plan, init.profile), normalised: first != null ? start.source : null }
  await removeCut(init.workDir)
  const copy = await normalised(runner, original, 'timeline', init, options)
  const copyPlan = (await planFile(
    runner,
    copy.source,
    copy.info,
    { ...init, wholeOnly: init.audio === false },
    false,
    options
  )) as FilePlan
  return { ...pictured(copyPlan, init.profile), normalised: copy.source }
}

/**
 * Tells each video unit the picture it writes, the frames it deinterlaces and whether it tone maps,
 * where it must be told (picture-format.ts, deinterlace.ts, tone-map.ts).
 */
function pictured (plan: FilePlan, profile: Profile): FilePlan {
  const pixelFormat = unitPixelFormat(plan.info, profile)
  const deinterlace = unitDeinterlace(plan.info, profile)
  const toneMap = unitToneMap(plan.info, profile)
  const told = {
    ...(pixelFormat != null ? { pixelFormat } : {}),
    ...(deinterlace != null ? { deinterlace } : {}),
    ...(toneMap ? { toneMap } : {})
  }
  if (Object.keys(told).length === 0) return plan
  return { ...plan, units: plan.units.map(u => (u.kind === 'audio' ? u : { ...u, ...told })) }
}

async function normalised (
  runner: FfmpegRunner,
  original: { source: string; info: MediaInfo },
  reason: NormaliseReason,
  init: PlanInit,
  options: Opts
): Promise<{ source: string; info: MediaInfo }> {
  const source = await normaliseSource(runner, original.source, original.info, reason, init.workDir, options)
  return { source, info: await probeSource(runner, source, options) }
}

type FilePlan = Required<Pick<PlanResult, 'units' | 'videoFrames' | 'info'>>

/**
 * Plans one file as it is: cut into segments (with an audio unit) where the profile and length
 * allow, else one whole unit. Null when `mayBreak` and its packets show a clock that jumps or
 * wraps in a format ffmpeg corrects (then the caller normalises it and plans the copy).
 * `wholeOnly`: a normalised copy whose audio unit was planned from the source before (by a node
 * that did not yet hold these back, see planAudioFirst) is converted whole, audio with it.
 */
async function planFile (
  runner: FfmpegRunner,
  source: string,
  info: MediaInfo,
  init: PlanInit & { wholeOnly: boolean },
  mayBreak: boolean,
  options: Opts
): Promise<FilePlan | null> {
  const { profile } = init
  const breaks = (list: PacketList): boolean =>
    mayBreak && hasBreakableClock(info) && (list.breaks > 0 || list.outsideMpegClock)
  const listed = listedStreams(info, profile)
  const cut =
    !init.wholeOnly && splitsVideo({ ...init, info })
      ? await tryCut(runner, source, info, init, listed, breaks, options)
      : null
  if (cut != null) {
    if (breaks(cut.list)) return null
    const measured = measuredInfo(info, cut.videoFrames, cut.list)
    if (cut.segments != null) {
      const units = [...cut.segments]
      if (init.audio !== false && convertsAudio(profile) && info.audioTracks > 0) {
        units.push(await audioUnit(runner, source, measured, init.workDir, options))
      }
      return { units, videoFrames: cut.videoFrames, info: measured }
    }
    return { units: [wholeUnit(source, measured, profile)], videoFrames: measured.videoFrames, info: measured }
  }
  if (info.kind === 'image' || listed.length === 0) {
    return { units: [wholeUnit(source, info, profile)], videoFrames: info.videoFrames, info }
  }
  // An MP4's sample tables say what its packets are, without a pass of ffmpeg over the file.
  const list =
    (await indexPackets(source, info, listed, options)) ??
    (await scanPackets(runner, source, listed, join(resolve(init.workDir), SCAN_LIST_NAME), options))
  if (breaks(list)) return null
  const counted =
    info.kind === 'video' && keepsFrames(profile) && info.videoStreamIndex != null
      ? (info.videoFrames ?? (list.streams.get(info.videoStreamIndex)?.packets ?? 0) - (info.leadingUndecodable ?? 0))
      : info.videoFrames
  const measured = measuredInfo(info, counted, list)
  return { units: [wholeUnit(source, measured, profile)], videoFrames: counted, info: measured }
}

/**
 * The cut, or null where ffmpeg could not cut this source (a stream the pieces' container does
 * not take, timestamps it will not write): a whole unit, a plain ffmpeg run, converts such a file.
 */
async function tryCut (
  runner: FfmpegRunner,
  source: string,
  info: MediaInfo,
  init: PlanInit,
  listed: number[],
  breaks: (list: PacketList) => boolean,
  options: Opts
): Promise<Cut | null> {
  try {
    return await cutVideo(runner, source, info, init, listed, breaks, options)
  } catch (err) {
    if (mustPassOn(err, options.signal)) throw err
    await removeCut(init.workDir)
    return null
  }
}

/** The streams whose packets the plan lists: the main video, and the audio and subtitles the output may keep. */
function listedStreams (info: MediaInfo, profile: Profile): number[] {
  const video =
    info.kind === 'video' && profile.kind === 'video' && info.videoStreamIndex != null ? [info.videoStreamIndex] : []
  // A stream of a codec ffmpeg does not know cannot be copied, not even into a packet list.
  const others = info.streams
    .filter(s => s.codec !== 'unknown' && (s.type === 'audio' || (s.type === 'subtitle' && profile.kind === 'video')))
    .map(s => s.index)
  return [...video, ...others]
}

/** The probe's facts with what the plan counted and measured. */
function measuredInfo (info: MediaInfo, videoFrames: number | null, list: PacketList): MediaInfo {
  const streamEnds: Record<string, number> = {}
  for (const [index, span] of list.streams) if (span.end != null) streamEnds[String(index)] = span.end
  return { ...info, videoFrames, streamEnds }
}

/**
 * Seconds from the source's start to where its last listed stream ends; the header's duration where nothing was
 * measured.
 */
export function measuredDuration (info: MediaInfo): number {
  const ends = Object.values(info.streamEnds ?? {})
  return ends.length > 0 ? Math.max(0, Math.max(...ends) - info.startTime) : info.durationSec
}

/** A video profile at the source's own frame rate: its output has exactly the source's frames. */
function keepsFrames (profile: Profile): boolean {
  return profile.kind === 'video' && profile.video?.frameRate == null
}

/**
 * The audio unit of a split plan, made before the split (a stream copy, a fraction of a second),
 * so a worker can convert the audio while the owner is still cutting the video. Null when the plan
 * will not be split, converts no audio, or the tracks do not fit Matroska (planSource then plans
 * that audio unit itself, reading the source, whose hash is not known yet); null too when the plan
 * may read a normalised copy instead of the source (a TS-like clock, or no presentation times):
 * only the cut can tell, and audio copied from the source would not match that copy's timeline.
 */
export async function planAudioFirst (
  runner: FfmpegRunner,
  init: PlanInit,
  options: Opts = {}
): Promise<PlannedUnit | null> {
  const { info, profile } = init
  checkProfileFits(info, profile)
  if (!splitsVideo(init) || !convertsAudio(profile) || info.audioTracks === 0) return null
  if (hasBreakableClock(info) || normaliseBeforeCut(info) != null) return null
  const unit = await audioUnit(runner, resolve(init.source), info, init.workDir, options)
  return unit.inputFormat === 'source' ? null : unit
}

/**
 * Whether the video is cut into segments (the cut may still fail: see cutVideo). A fixed output
 * rate changes frame counts per piece, so such a profile converts the file in one piece; so is a
 * video whose packets lack presentation times and were not normalised (see normaliseBeforeCut).
 */
function splitsVideo ({ info, profile, segmentSeconds, whole }: PlanInit): boolean {
  return whole !== true && keepsFrames(profile) && info.kind === 'video' && info.missingPts !== true &&
    info.durationSec >= MIN_SEGMENTS_TO_SPLIT * segmentSeconds && info.videoStreamIndex != null
}

function wholeUnit (source: string, info: MediaInfo, profile: Profile): PlannedUnit {
  const expectedFrames = profile.kind === 'image' ? 1 : keepsFrames(profile) ? info.videoFrames : null
  return {
    kind: 'whole',
    files: [source],
    preRoll: false,
    range: null,
    durationSec: measuredDuration(info),
    inputFormat: 'source',
    expectedFrames
  }
}

/**
 * Every audio track, stream-copied out of the source with its timestamps so a worker fetches only
 * the audio; if the tracks do not fit Matroska the unit reads the source itself.
 */
async function audioUnit (
  runner: FfmpegRunner,
  source: string,
  info: MediaInfo,
  workDir: string,
  options: Opts
): Promise<PlannedUnit> {
  const file = join(resolve(workDir), 'audio.mka')
  const unit: PlannedUnit = {
    kind: 'audio',
    files: [file],
    preRoll: false,
    range: null,
    durationSec: measuredDuration(info),
    inputFormat: 'matroska',
    expectedFrames: null
  }
  try {
    await runner.run(
      [
        '-copyts',
        ...inputArgs(source),
        '-map',
        '0:a',
        '-c',
        'copy',
        '-vn',
        '-sn',
        '-dn',
        ...outputArgs(file, 'matroska')
      ],
      options
    )
    return unit
  } catch (err) {
    if (mustPassOn(err, options.signal)) throw err
    return { ...unit, files: [source], inputFormat: 'source' }
  }
}
