import { readFile } from 'node:fs/promises'
import { MPEG_CLOCK_WRAP_SEC, type PacketWatch, type WatchedPacket } from './packet-list.js'
import type { Piece } from './pieces.js'
import { tsFirstVideoTicks } from './ts-first-time.js'

/**
 * A TS cut's pieces counted from the cut's own packet list (packet-list.ts) rather than read again:
 * an ffprobe of every piece demuxes and parses the whole video a second time, on the owner's core
 * before any unit can be offered (0.6 s of the 2.4 s it took to plan a 3-minute 720p file, and it
 * grows with the file). The segment muxer's list names where each piece starts; the list's packets,
 * in the order the muxer got them, fall into the pieces between those starts; the first packet's
 * time in the first piece gives the TS muxer's time offset, and the last piece's checks it (read
 * from their first PES headers: ts-first-time.ts). Anything that does not line up gives null, and
 * the plan reads the pieces (pieces.ts).
 *
 * Times are counted in ticks of MPEG-TS's 90 kHz clock, the segment muxer's, rounded as ffmpeg
 * rounds them into it: a time computed in seconds missed the piece's own by a tick.
 */

const TS_HZ = 90000

/** Packets from one keyframe to the next, in decode order: pieces start at keyframes, so each is a run of these. */
interface Run { key: number | null, frames: number, first: number, min: number, max: number, untimed: boolean }

/** A piece as the tally counts it, in the source's ticks. */
interface Tallied { frames: number, first: number, min: number, max: number, leading: boolean, untimed: boolean }

/**
 * The times the segment muxer's csv list (`-segment_list_type csv`: name, start, end) gives for
 * the pieces after the first, in ticks; null when it is missing or does not name `pieces` pieces.
 */
export async function readSegmentStarts (listFile: string, pieces: number): Promise<number[] | null> {
  const text = await readFile(listFile, 'utf8').catch(() => null)
  if (text == null) return null
  const lines = text.split('\n').filter(l => l.trim() !== '')
  if (lines.length !== pieces) return null
  const starts = lines.slice(1).map(line => Math.round(Number(line.split(',').at(-2)) * TS_HZ))
  return starts.every(Number.isFinite) ? starts : null
}

/**
 * Sorts the cut's video packets into pieces as the segment muxer did: a new piece starts at the
 * keyframe whose time is the next start in its list. The muxer's times are the source's moved
 * later so that decoding starts at or after zero (avoid_negative_ts), by an amount ffmpeg works out
 * in its own clocks; it is found from the first start: the keyframe nearest at or before it.
 * `watch` is what readPacketList takes for the list's video stream (its first).
 */
export function createPieceTally (starts: number[]): { watch: PacketWatch, result: () => Tallied[] | null } {
  const runs: Run[] = []
  let run: Run | null = null
  const add = (p: WatchedPacket): void => {
    // A packet without data (AVI's dropped frame) never reaches a piece.
    if (p.empty) return
    const time = p.pts ?? p.dts
    if (run == null || (p.key && time != null)) {
      run = { key: p.key ? time : null, frames: 0, first: time ?? 0, min: Infinity, max: -Infinity, untimed: false }
      runs.push(run)
    }
    run.frames++
    if (time == null) { run.untimed = true; return }
    run.min = Math.min(run.min, time)
    run.max = Math.max(run.max, time)
  }
  return { watch: { output: 0, hz: TS_HZ, add }, result: () => piecesOf(runs, starts) }
}

/** The runs joined into pieces at the starts; null unless every start is a keyframe's time. */
function piecesOf (runs: Run[], starts: number[]): Tallied[] | null {
  if (runs.length === 0) return null
  const shift = shiftBy(runs, starts[0])
  if (shift == null) return starts.length === 0 ? [join(runs, 0, runs.length)] : null
  const pieces: Tallied[] = []
  let from = 0
  let at = 1
  for (const start of starts) {
    // One tick either way (startsAt): the list gives its times to the microsecond, a tick is 11.
    while (at < runs.length && !startsAt(runs[at] as Run, shift, start)) at++
    if (at >= runs.length) return null
    pieces.push(join(runs, from, at))
    from = at++
  }
  pieces.push(join(runs, from, runs.length))
  return pieces
}

function startsAt (run: Run, shift: number, start: number): boolean {
  return run.key != null && Math.abs(run.key + shift - start) <= 1
}

/** How much later the muxer's clock is: from the keyframe nearest at or before the first start. */
function shiftBy (runs: Run[], first: number | undefined): number | null {
  if (first == null) return null
  let nearest: number | null = null
  for (const r of runs) if (r.key != null && r.key <= first + 1 && (nearest == null || r.key > nearest)) nearest = r.key
  return nearest == null ? null : Math.max(0, first - nearest)
}

/** Runs [from, to) as one piece: leading when a frame in it is shown before its first packet. */
function join (runs: Run[], from: number, to: number): Tallied {
  const first = runs[from]?.first ?? 0
  const piece: Tallied = { frames: 0, first, min: Infinity, max: -Infinity, leading: false, untimed: false }
  for (let i = from; i < to; i++) {
    const r = runs[i] as Run
    piece.frames += r.frames
    piece.min = Math.min(piece.min, r.min)
    piece.max = Math.max(piece.max, r.max)
    piece.untimed ||= r.untimed
  }
  piece.leading = piece.min < piece.first
  return piece
}

export type PieceTally = ReturnType<typeof createPieceTally>

/**
 * The pieces in their own clock: the MPEG-TS muxer moves every time by the same number of ticks
 * (its mux delay, and the shift above), read from the first packet of the first piece and checked
 * on the last. Null when the tally did not line up, a piece has an untimed packet, or the offset
 * differs.
 */
export async function tallyPieces (files: string[], tally: PieceTally): Promise<Piece[] | null> {
  const tallied = tally.result()
  const head = tallied?.[0]
  const tail = tallied?.at(-1)
  if (tallied == null || tallied.length !== files.length || head == null || tail == null) return null
  if (tallied.some(p => p.untimed || p.frames === 0)) return null
  const first = await tsFirstVideoTicks(files[0] as string)
  const last = await tsFirstVideoTicks(files.at(-1) as string)
  if (first == null || last == null || tail.first + first - head.first !== last) return null
  const offset = first - head.first
  const pieces = tallied.map((p, i): Piece => ({
    file: files[i] as string,
    frames: p.frames,
    minPts: (p.min + offset) / TS_HZ,
    maxPts: (p.max + offset) / TS_HZ,
    leading: p.leading
  }))
  return pieces.every(p => p.minPts >= 0 && p.maxPts < MPEG_CLOCK_WRAP_SEC) ? pieces : null
}
