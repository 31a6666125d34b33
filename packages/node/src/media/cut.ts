import { readdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { MAX_UNITS_PER_JOB } from '@ffmesh/protocol'
import { cutTimes } from './cut-times.js'
import { inputArgs, mediaPath, outputArgs } from './ffmpeg-args.js'
import { packetListOutput, readPacketList, type PacketList } from './packet-list.js'
import { createPieceTally, readSegmentStarts, tallyPieces } from './piece-tally.js'
import { readPieces, type Piece } from './pieces.js'
import type { PlannedUnit } from './planned-unit.js'
import type { MediaInfo } from './probe.js'
import type { FfmpegRunner } from './runner.js'

/**
 * Codecs whose pieces go into MPEG-TS: TS pieces concatenate byte-wise, so a unit is its pre-roll
 * piece followed by its own piece, read as one input. Only these codecs have open GOPs that need a
 * pre-roll.
 */
const TS_CODECS = new Set(['h264', 'hevc', 'mpeg2video', 'mpeg1video', 'mpeg4'])

/** Bounds the slots a shrinking tail is cut for (see cutTimes), whatever slot count a mesh advertises. */
const MAX_TAIL_SEGMENTS = 64

const PIECE_NAME = /^piece-\d{5}\.(ts|mkv)$/
/** The cut's packet list of the source (see packet-list.ts), beside the pieces. */
const CUT_LIST_NAME = 'source-packets.crc'
/** The segment muxer's list of the pieces it wrote, with the time each starts (piece-tally.ts). */
const SEGMENT_LIST_NAME = 'pieces.csv'

export interface CutInit {
  segmentSeconds: number
  workDir: string
  tailSegments?: number
}

export interface Cut {
  /** Null when the pieces do not line up: the caller converts the file whole, which is always right. */
  segments: PlannedUnit[] | null
  videoFrames: number
  /** Every listed stream's packets, as the cut read them from the source. */
  list: PacketList
}

/**
 * Cuts the main video stream at keyframes by stream copy, keeping source timestamps (no
 * reset_timestamps), and derives each unit's time range from the pieces' packets: counted from
 * the cut's packet list (piece-tally.ts), or read from the pieces where that does not line up.
 * The same ffmpeg lists the packets of `listed` streams as it reads them (see packet-list.ts): the
 * source's frame count, the sum the pieces must come to, and where each stream really ends.
 * `stopAt` looks at that list before the pieces are read: when it says so, the cut ends there
 * (segments null) and the caller decides (a clock that jumps: see normalise.ts).
 */
export async function cutVideo (
  runner: FfmpegRunner,
  source: string,
  info: MediaInfo,
  init: CutInit,
  listed: number[],
  stopAt: (list: PacketList) => boolean,
  options: { signal?: AbortSignal }
): Promise<Cut> {
  const index = info.videoStreamIndex as number
  const ts = TS_CODECS.has(info.videoCodec ?? '')
  const workDir = resolve(init.workDir)
  const origin = info.videoStartTime ?? info.startTime
  const tail = Math.min(MAX_TAIL_SEGMENTS, Math.max(0, Math.floor(init.tailSegments ?? 0)))
  // Milliseconds are precise enough for a cut hint and keep the argument under Linux's 128 KiB.
  const times = cutsWithinLimit(info.durationSec, init.segmentSeconds, tail).map(t => (origin + t).toFixed(3))
  const listFile = join(workDir, CUT_LIST_NAME)
  const segmentList = join(workDir, SEGMENT_LIST_NAME)
  const { dtsRaised } = await runner.run(
    [
      '-copyts',
      ...inputArgs(source),
      // -copyinkf: a recording that starts mid-GOP begins with frames no decoder shows; the first
      // piece keeps them, so the pieces hold every packet and its unit drops what a direct run drops.
      '-map',
      `0:${String(index)}`,
      '-c',
      'copy',
      '-copyinkf',
      ...pieceBitstreamFilters(info.videoCodec),
      '-an',
      '-sn',
      '-dn',
      '-map_metadata',
      '-1',
      '-map_chapters',
      '-1',
      '-segment_format',
      ts ? 'mpegts' : 'matroska',
      '-segment_times',
      times.join(','),
      // Where each piece starts, for counting TS pieces from the packet list (piece-tally.ts).
      ...(ts ? ['-segment_list', mediaPath(segmentList), '-segment_list_type', 'csv'] : []),
      ...outputArgs(join(workDir, `piece-%05d.${ts ? 'ts' : 'mkv'}`), 'segment'),
      ...packetListOutput(listed, listFile)
    ],
    { ...options, countPackets: true }
  )
  const files = (await readdir(workDir))
    .filter(n => PIECE_NAME.test(n))
    .sort()
    .map(n => join(workDir, n))
  const starts = ts ? await readSegmentStarts(segmentList, files.length) : null
  const tally = starts != null ? createPieceTally(starts) : null
  // The packet list is the run's second output (the pieces are its first); the video is its first stream.
  const list = await readPacketList(
    listFile,
    listed,
    dtsRaised.filter(r => r.output === 1),
    listed[0] === index ? tally?.watch : undefined
  )
  const lead = info.leadingUndecodable ?? 0
  // The packets with data, as the list has them: ffmpeg's own count (its statistics) includes the
  // empty ones an AVI marks dropped frames with. A count from the probe (a job submitted by an
  // older node) stands.
  const read = list.streams.get(index)?.packets ?? 0
  const videoFrames = info.videoFrames ?? read - lead
  if (stopAt(list)) return { segments: null, videoFrames, list }

  const pieces = (tally != null ? await tallyPieces(files, tally) : null) ??
    await readPieces(runner, files, ts, options)
  const total = pieces.reduce((n, p) => n + p.frames, 0)
  if (pieces.length < 2 || total !== videoFrames + lead || read !== total || pieces.some(p => p.frames === 0)) {
    return { segments: null, videoFrames, list }
  }
  // Every frame of a piece must display before every frame of the next, or ranges would overlap.
  for (let i = 1; i < pieces.length; i++) {
    if ((pieces[i - 1] as Piece).maxPts >= (pieces[i] as Piece).minPts) return { segments: null, videoFrames, list }

  }
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
      expectedFrames: i === 0 ? piece.frames - lead : piece.frames,
      rotation: info.rotation ?? 0
    }
  })
  return { segments, videoFrames, list }
}

/** cutTimes, with longer segments where the job would exceed the unit limit (one unit stays for audio). */
function cutsWithinLimit (durationSec: number, segmentSeconds: number, slots: number): number[] {
  let step = Math.max(segmentSeconds, durationSec / (MAX_UNITS_PER_JOB - 2))
  let cuts = cutTimes(durationSec, step, slots)
  while (cuts.length + 2 > MAX_UNITS_PER_JOB) {
    step *= 1.25
    cuts = cutTimes(durationSec, step, slots)
  }
  return cuts
}

/** Removes the pieces and the lists of a cut whose plan starts over (on a normalised copy). */
export async function removeCut (workDir: string): Promise<void> {
  for (const name of await readdir(workDir)) {
    const cutFile = PIECE_NAME.test(name) || name === CUT_LIST_NAME || name === SEGMENT_LIST_NAME
    if (cutFile) await rm(join(workDir, name), { force: true })
  }
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
