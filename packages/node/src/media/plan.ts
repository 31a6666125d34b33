import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { MAX_UNITS_PER_JOB, type Profile } from '@ffmesh/protocol'
import { cutTimes } from './cut-times.js'
import { concatInput, inputArgs, mediaPath, outputArgs, PROTOCOL_WHITELIST } from './ffmpeg-args.js'
import { checkProfileFits, convertsAudio } from './profile-args.js'
import { countPackets, type MediaInfo } from './probe.js'
import type { FfmpegRunner } from './runner.js'

export interface PlannedUnit {
  kind: 'segment' | 'audio' | 'whole'
  /** Absolute paths in input order; for 'whole' this is [source] itself (not copied). */
  files: string[]
  /** files[0] is the previous piece, only decoded for reference. */
  preRoll: boolean
  range: { start: number, end: number | null } | null
  durationSec: number
  inputFormat: 'mpegts' | 'matroska' | 'source'
  /** Video frames this unit must produce (null for audio). */
  expectedFrames: number | null
}

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
}

/** Bounds the extra units of a halved tail, whatever slot count a mesh advertises. */
const MAX_TAIL_SEGMENTS = 64

/**
 * Codecs whose pieces go into MPEG-TS: TS pieces concatenate byte-wise, so a unit is its pre-roll
 * piece followed by its own piece, read as one input. Only these codecs have open GOPs that need a
 * pre-roll.
 */
const TS_CODECS = new Set(['h264', 'hevc', 'mpeg2video', 'mpeg1video', 'mpeg4'])

/** A video shorter than this many segments is one unit: splitting it gains nothing. */
const MIN_SEGMENTS_TO_SPLIT = 2

const PIECE_NAME = /^piece-\d{5}\.(ts|mkv)$/
/** TS pieces read by one ffprobe; bounds its output (a packet list) for very long sources. */
const PIECES_PER_PROBE = 100

/** A cut of the main video stream; `leading` when it starts with an open GOP (frames shown before its keyframe). */
interface Piece { file: string, frames: number, minPts: number, maxPts: number, leading: boolean }

export interface PlanResult {
  units: PlannedUnit[]
  /**
   * The source's video frames (MediaInfo.videoFrames): the probe's, or counted by the plan where
   * the probe left them out and the plan or the output check needs them; otherwise null.
   */
  videoFrames: number | null
}

/** Splits a source into the units a job converts; see PlannedUnit. */
export async function planSource (runner: FfmpegRunner, init: PlanInit, options: { signal?: AbortSignal } = {}): Promise<PlanResult> {
  const { info, profile } = init
  const source = resolve(init.source)
  checkProfileFits(info, profile)
  const cut = splitsVideo(init) ? await splitVideo(runner, source, info, init, options) : null
  const videoFrames = cut != null ? cut.videoFrames : await framesToCheck(runner, source, init, options)
  if (cut?.segments == null) return { units: [wholeUnit(source, info, profile, videoFrames)], videoFrames }
  const units = [...cut.segments]
  if (init.audio !== false && convertsAudio(profile) && info.audioTracks > 0) units.push(await audioUnit(runner, source, info, init.workDir, options))
  return { units, videoFrames }
}

/**
 * The source's frame count for a plan that is not cut: counted now (one read of the source) if the
 * probe left it out and the output will be checked against it, that is for a video profile that
 * keeps the source's frame rate.
 */
async function framesToCheck (runner: FfmpegRunner, source: string, { info, profile }: PlanInit, options: { signal?: AbortSignal }): Promise<number | null> {
  if (info.videoFrames != null || info.kind !== 'video' || info.videoStreamIndex == null || !keepsFrames(profile)) return info.videoFrames
  return await countPackets(runner, source, info.videoStreamIndex, options) - (info.leadingUndecodable ?? 0)
}

/** A video profile at the source's own frame rate: its output has exactly the source's frames. */
function keepsFrames (profile: Profile): boolean {
  return profile.kind === 'video' && profile.video?.frameRate == null
}

/**
 * The audio unit of a split plan, made before the split (a stream copy, a fraction of a second),
 * so a worker can convert the audio while the owner is still cutting the video. Null when the plan
 * will not be split, converts no audio, or the tracks do not fit Matroska (planSource then plans
 * that audio unit itself, reading the source, whose hash is not known yet).
 */
export async function planAudioFirst (runner: FfmpegRunner, init: PlanInit, options: { signal?: AbortSignal } = {}): Promise<PlannedUnit | null> {
  const { info, profile } = init
  checkProfileFits(info, profile)
  if (!splitsVideo(init) || !convertsAudio(profile) || info.audioTracks === 0) return null
  const unit = await audioUnit(runner, resolve(init.source), info, init.workDir, options)
  return unit.inputFormat === 'source' ? null : unit
}

/**
 * Whether the video is cut into segments (the cut may still fail: see splitVideo). A fixed output
 * rate changes frame counts per piece, so such a profile converts the file in one piece.
 */
function splitsVideo ({ info, profile, segmentSeconds }: PlanInit): boolean {
  return keepsFrames(profile) && info.kind === 'video' &&
    info.durationSec >= MIN_SEGMENTS_TO_SPLIT * segmentSeconds && info.videoStreamIndex != null
}

function wholeUnit (source: string, info: MediaInfo, profile: Profile, videoFrames: number | null): PlannedUnit {
  const expectedFrames = profile.kind === 'image' ? 1 : keepsFrames(profile) ? videoFrames : null
  return { kind: 'whole', files: [source], preRoll: false, range: null, durationSec: info.durationSec, inputFormat: 'source', expectedFrames }
}

/**
 * Cuts the main video stream at keyframes by stream copy, keeping source timestamps (no
 * reset_timestamps), and derives each unit's time range from the pieces' own packets. The cut's
 * ffmpeg also counts the source's packets as it reads them: the source's frame count, and the sum
 * the pieces must come to. `segments` is null when the pieces do not line up (then the caller
 * converts the file whole, which is always right).
 */
async function splitVideo (runner: FfmpegRunner, source: string, info: MediaInfo, init: PlanInit, options: { signal?: AbortSignal }): Promise<{ segments: PlannedUnit[] | null, videoFrames: number }> {
  const index = info.videoStreamIndex as number
  const ts = TS_CODECS.has(info.videoCodec ?? '')
  const ext = ts ? 'ts' : 'mkv'
  const origin = info.videoStartTime ?? info.startTime
  const tail = Math.min(MAX_TAIL_SEGMENTS, Math.max(0, Math.floor(init.tailSegments ?? 0)))
  // Longer segments when the job would exceed the unit limit (one unit stays for audio).
  const step = Math.max(init.segmentSeconds, info.durationSec / (MAX_UNITS_PER_JOB - 2 - tail))
  // Milliseconds are precise enough for a cut hint and keep the argument under Linux's 128 KiB.
  const times = cutTimes(info.durationSec, step, tail).map(t => (origin + t).toFixed(3))
  const { packetsRead } = await runner.run([
    '-copyts', ...inputArgs(source),
    '-map', `0:${String(index)}`, '-c', 'copy', ...pieceBitstreamFilters(info.videoCodec),
    '-an', '-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1',
    '-segment_format', ts ? 'mpegts' : 'matroska', '-segment_times', times.join(','),
    ...outputArgs(join(resolve(init.workDir), `piece-%05d.${ext}`), 'segment')
  ], { ...options, countPackets: true })
  const files = (await readdir(init.workDir)).filter(n => PIECE_NAME.test(n)).sort().map(n => join(resolve(init.workDir), n))
  const pieces: Piece[] = []
  if (ts) {
    for (let i = 0; i < files.length; i += PIECES_PER_PROBE) pieces.push(...await readTsPieces(runner, files.slice(i, i + PIECES_PER_PROBE), options))
  } else {
    for (const file of files) pieces.push(await readPiece(runner, file, options))
  }

  const lead = info.leadingUndecodable ?? 0
  const read = packetsRead.get(index)
  // A count from the probe (a job submitted by an older node) stands; an ffmpeg that printed no
  // statistics costs one more read of the source.
  const videoFrames = info.videoFrames ?? (read ?? await countPackets(runner, source, index, options)) - lead
  const total = pieces.reduce((n, p) => n + p.frames, 0)
  if (pieces.length < 2 || total !== videoFrames + lead || (read != null && read !== total) || pieces.some(p => p.frames === 0)) return { segments: null, videoFrames }
  // Every frame of a piece must display before every frame of the next, or ranges would overlap.
  for (let i = 1; i < pieces.length; i++) if ((pieces[i - 1] as Piece).maxPts >= (pieces[i] as Piece).minPts) return { segments: null, videoFrames }

  const frameSec = info.frameRate != null && info.frameRate > 0 ? 1 / info.frameRate : 0
  const segments = pieces.map((piece, i): PlannedUnit => {
    const next = pieces[i + 1]
    // Decoding the previous piece costs CPU on every segment; only open-GOP starts need it.
    const preRoll = ts && i > 0 && piece.leading
    const end = next?.minPts ?? null
    return {
      kind: 'segment',
      files: preRoll ? [(pieces[i - 1] as Piece).file, piece.file] : [piece.file],
      preRoll,
      range: { start: piece.minPts, end },
      durationSec: (end ?? piece.maxPts + frameSec) - piece.minPts,
      inputFormat: ts ? 'mpegts' : 'matroska',
      // The first piece starts where the source does, so its decoder drops what a direct run drops.
      expectedFrames: i === 0 ? piece.frames - lead : piece.frames
    }
  })
  return { segments, videoFrames }
}

/**
 * H.264/HEVC from MP4 or Matroska carry their parameter sets out of band; the Annex B conversion
 * repeats them only before IDR frames, so a piece that starts at an open-GOP keyframe (a recovery
 * point or CRA, the x265 default) could not be decoded. Repeating them on every keyframe fixes it.
 */
function pieceBitstreamFilters (codec: string | null): string[] {
  if (codec === 'h264' || codec === 'hevc') return ['-bsf:v', `${codec}_mp4toannexb,dump_extra=freq=keyframe`]
  return []
}

type Packet = { pts_time?: string, dts_time?: string, pos?: string }
interface PacketList { packets?: Packet[] }

async function readPiece (runner: FfmpegRunner, file: string, options: { signal?: AbortSignal }): Promise<Piece> {
  const probe = await runner.probeJson(['-protocol_whitelist', PROTOCOL_WHITELIST, '-select_streams', 'v:0',
    '-show_entries', 'packet=pts_time,dts_time', mediaPath(file)], options) as PacketList
  return toPiece(file, probe.packets ?? [])
}

/**
 * TS pieces are probed many at once: one ffprobe reads them back to back (they concatenate
 * byte-wise, as a pre-roll unit reads them) and each packet's byte position names its piece. This
 * saves a process start per piece, a tenth of a second each on a busy core.
 */
async function readTsPieces (runner: FfmpegRunner, files: string[], options: { signal?: AbortSignal }): Promise<Piece[]> {
  const ends: number[] = []
  let offset = 0
  for (const file of files) { offset += (await stat(file)).size; ends.push(offset) }
  const input = concatInput(files, 'mpegts')
  const probe = await runner.probeJson(['-select_streams', 'v:0', '-show_entries', 'packet=pts_time,dts_time,pos', ...input.args],
    { ...options, stdin: input.stdin }) as PacketList
  const byPiece: Packet[][] = files.map(() => [])
  for (const packet of probe.packets ?? []) {
    const pos = Number(packet.pos)
    const i = ends.findIndex(end => pos < end)
    // A packet without a position cannot be placed: the plan falls back to per-piece probes.
    if (!Number.isInteger(pos) || pos < 0 || i < 0) {
      const pieces: Piece[] = []
      for (const file of files) pieces.push(await readPiece(runner, file, options))
      return pieces
    }
    byPiece[i]?.push(packet)
  }
  return files.map((file, i) => toPiece(file, byPiece[i] as Packet[]))
}

function toPiece (file: string, packets: Packet[]): Piece {
  const times = packets.map(p => Number(p.pts_time ?? p.dts_time)).filter(Number.isFinite)
  const frames = packets.length
  // A packet without any time cannot be placed in a range: report the piece as unusable.
  if (frames === 0 || times.length !== frames) return { file, frames: 0, minPts: 0, maxPts: 0, leading: false }
  // Packets come in decode order: a frame shown before the piece's first keyframe is an open-GOP
  // leading frame, which references the previous piece. Without one, the piece decodes alone.
  const first = times[0] as number
  return { file, frames, minPts: times.reduce((a, b) => Math.min(a, b)), maxPts: times.reduce((a, b) => Math.max(a, b)), leading: times.some(t => t < first) }
}

/**
 * Every audio track, stream-copied out of the source with its timestamps so a worker fetches only
 * the audio; if the tracks do not fit Matroska the unit reads the source itself.
 */
async function audioUnit (runner: FfmpegRunner, source: string, info: MediaInfo, workDir: string, options: { signal?: AbortSignal }): Promise<PlannedUnit> {
  const file = join(resolve(workDir), 'audio.mka')
  const unit: PlannedUnit = { kind: 'audio', files: [file], preRoll: false, range: null, durationSec: info.durationSec, inputFormat: 'matroska', expectedFrames: null }
  try {
    await runner.run(['-copyts', ...inputArgs(source), '-map', '0:a', '-c', 'copy', '-vn', '-sn', '-dn', ...outputArgs(file, 'matroska')], options)
    return unit
  } catch (err) {
    if (options.signal?.aborted === true) throw err
    return { ...unit, files: [source], inputFormat: 'source' }
  }
}
