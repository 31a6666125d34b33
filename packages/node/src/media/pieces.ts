import { stat } from 'node:fs/promises'
import { concatInput, mediaPath, PROTOCOL_WHITELIST } from './ffmpeg-args.js'
import type { FfmpegRunner } from './runner.js'

/** A cut of the main video stream; `leading` when it starts with an open GOP (frames shown before its keyframe). */
export interface Piece { file: string, frames: number, minPts: number, maxPts: number, leading: boolean }

/** TS pieces read by one ffprobe; bounds its output (a packet list) for very long sources. */
const PIECES_PER_PROBE = 100

/** Reads every piece's frames and times: TS pieces in batches (see readTsPieces), Matroska ones one by one. */
export async function readPieces (
  runner: FfmpegRunner,
  files: string[],
  ts: boolean,
  options: { signal?: AbortSignal }
): Promise<Piece[]> {
  const pieces: Piece[] = []
  if (ts) {
    for (let i = 0; i < files.length; i += PIECES_PER_PROBE) {
      pieces.push(...(await readTsPieces(runner, files.slice(i, i + PIECES_PER_PROBE), options)))
    }
  } else {
    for (const file of files) pieces.push(await readPiece(runner, file, options))
  }
  return pieces
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
async function readTsPieces (
  runner: FfmpegRunner,
  files: string[],
  options: { signal?: AbortSignal }
): Promise<Piece[]> {
  const ends: number[] = []
  let offset = 0
  for (const file of files) {
    offset += (await stat(file)).size
    ends.push(offset)
  }
  const input = concatInput(files, 'mpegts')
  const probe = (await runner.probeJson(
    ['-select_streams', 'v:0', '-show_entries', 'packet=pts_time,dts_time,pos', ...input.args],
    { ...options, stdin: input.stdin }
  )) as PacketList
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
  return {
    file,
    frames,
    minPts: times.reduce((a, b) => Math.min(a, b)),
    maxPts: times.reduce((a, b) => Math.max(a, b)),
    leading: times.some(t => t < first)
  }
}
