import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { inputArgs, outputArgs } from './ffmpeg-args.js'
import type { DtsRaise, FfmpegRunner } from './runner.js'

/**
 * What a source really holds, read from its packets rather than its header: a recording cut short
 * keeps the full length in its header (Matroska, MP4, AVI, an MP3's Xing frame count), and an
 * MPEG-TS header's length is its last timestamp less its first, wrong across a joined recording.
 *
 * The list comes from ffmpeg's framecrc muxer, one line per packet, as an extra output of a pass
 * that reads the source anyway (the cut), so it costs no read of its own: measured on a 122 MB TS,
 * the cut took 0.02 to 0.08 s more CPU with it. It is parsed as a stream, in constant memory.
 */

/**
 * One stream's packets: how many carry data (AVI marks a frame its encoder dropped with an empty
 * one, which no decoder shows and ffprobe does not list), and the presentation times they span
 * (end: last time plus duration).
 */
export interface StreamSpan { packets: number, start: number | null, end: number | null }

export interface PacketList {
  /** By source stream index. */
  streams: Map<number, StreamSpan>
  /**
   * Places where a stream's decode times break as a joined recording's do: they step back, or jump
   * past ffmpeg's discontinuity threshold. ffmpeg corrects these in MPEG-TS and MPEG-PS when it
   * does not keep source times (a plain run); kept, they would leave a hole or an overlap.
   */
  breaks: number
  /**
   * A presentation time lies outside the 33-bit MPEG clock's range: ffmpeg unwrapped a clock that
   * wrapped, and the pieces of a cut, each unwrapped on its own, would not agree on it.
   */
  outsideMpegClock: boolean
}

/** ffmpeg's default -dts_delta_threshold: a bigger step in a TS-like input's decode times is a discontinuity. */
export const DTS_DELTA_THRESHOLD_SEC = 10
/** ffmpeg also takes a decode time this far behind the last one for a discontinuity (AV_TIME_BASE / 10 in ffmpeg.c). */
export const BACKWARD_STEP_SEC = 0.1
/** MPEG's 33-bit 90 kHz clock wraps here; a source time outside [0, this) comes from a wrapped clock. */
export const MPEG_CLOCK_WRAP_SEC = 2 ** 33 / 90000

/** framecrc's value for a missing timestamp (AV_NOPTS_VALUE). */
const NO_TIMESTAMP = '-9223372036854775808'
const TIME_BASE_LINE = /^#tb (\d+): (\d+)\/(\d+)$/
const MEDIA_TYPE_LINE = /^#media_type (\d+): (\w+)$/
const PACKET_LINE = /^(\d+),\s*(-?\d+),\s*(-?\d+),\s*(-?\d+),\s*(\d+),/

/**
 * Output arguments that list every packet of these source streams into `listFile`, as one more
 * output of an ffmpeg run whose input 0 is the source. Initial non-key packets are kept
 * (`-copyinkf`): they are in the source, and the count must match the demuxer's.
 */
export function packetListOutput (streams: number[], listFile: string): string[] {
  return [...streams.flatMap(i => ['-map', `0:${i}`]), '-c', 'copy', '-copyinkf', ...outputArgs(listFile, 'framecrc')]
}

/**
 * Lists the packets of `streams` in a pass of their own, for a plan that does not cut the source
 * and whose sample tables mp4-index.ts does not read.
 */
export async function scanPackets (
  runner: FfmpegRunner,
  source: string,
  streams: number[],
  listFile: string,
  options: { signal?: AbortSignal } = {}
): Promise<PacketList> {
  try {
    const { dtsRaised } = await runner.run(['-copyts', ...inputArgs(source), ...packetListOutput(streams, listFile)], {
      ...options,
      countPackets: true
    })
    return await readPacketList(
      listFile,
      streams,
      dtsRaised.filter(r => r.output === 0)
    )
  } finally {
    await rm(listFile, { force: true })
  }
}

/** A packet of the list, its times in ticks of the watcher's clock (readPacketList's `watch`). */
export interface WatchedPacket { pts: number | null, dts: number | null, key: boolean, empty: boolean }

/** Who watches one output stream's packets, and in ticks of what clock (`hz` ticks a second). */
export interface PacketWatch { output: number, hz: number, add: (packet: WatchedPacket) => void }

/** framecrc writes a packet's flags only where they are not just "keyframe". */
const FLAGS_FIELD = /, F=0x([0-9A-Fa-f]+)/
const KEY_FLAG = 1

interface Running { span: StreamSpan, timed: boolean, lastDts: number | null, lastDuration: number }

/**
 * Parses a framecrc list written by packetListOutput; output stream i is `streams[i]`. `raised`:
 * the decode times ffmpeg raised as it wrote the list (RunResult.dtsRaised, of its output), where
 * a step back shows: the list itself has it raised to the last time. `watch` is handed each packet
 * of one output stream as it is read (piece-tally.ts).
 */
export async function readPacketList (
  listFile: string,
  streams: number[],
  raised: DtsRaise[],
  watch?: PacketWatch
): Promise<PacketList> {
  const timeBases = new Map<number, number>()
  /** The watched stream's time base times the watcher's ticks a second: a timestamp times this is ticks. */
  let watchedScale: { num: bigint, den: bigint } | null = null
  const running = streams.map((): Running => ({
    span: { packets: 0, start: null, end: null },
    timed: false,
    lastDts: null,
    lastDuration: 0
  }))
  let breaks = 0
  let outsideMpegClock = false
  const lines = createInterface({ input: createReadStream(listFile, 'utf8'), crlfDelay: Infinity })
  for await (const line of lines) {
    const tb = TIME_BASE_LINE.exec(line)
    if (tb != null) {
      timeBases.set(Number(tb[1]), Number(tb[2]) / Number(tb[3]))
      if (Number(tb[1]) === watch?.output) {
        watchedScale = { num: BigInt(tb[2] as string) * BigInt(watch.hz), den: BigInt(tb[3] as string) }
      }
      continue
    }
    const type = MEDIA_TYPE_LINE.exec(line)
    if (type != null) {
      // ffmpeg tests audio and video for discontinuities, not subtitles (which may repeat a time).
      const stream = running[Number(type[1])]
      if (stream != null) stream.timed = type[2] === 'video' || type[2] === 'audio'
      continue
    }
    const m = PACKET_LINE.exec(line)
    if (m == null) continue
    const out = Number(m[1])
    const state = running[out]
    const unit = timeBases.get(out)
    if (state == null || unit == null) continue
    const seconds = (raw: string): number | null => raw === NO_TIMESTAMP ? null : Number(raw) * unit
    const dts = seconds(m[2] as string)
    const pts = seconds(m[3] as string) ?? dts
    const duration = Math.max(0, seconds(m[4] as string) ?? 0)
    if (out === watch?.output && watchedScale != null) {
      const flags = FLAGS_FIELD.exec(line)
      watch.add({
        pts: ticks(m[3] as string, watchedScale),
        dts: ticks(m[2] as string, watchedScale),
        key: flags == null || (Number.parseInt(flags[1] as string, 16) & KEY_FLAG) !== 0,
        empty: Number(m[5]) === 0
      })
    }
    if (breaksTimeline(state, dts)) breaks++
    if (pts != null && (pts < 0 || pts >= MPEG_CLOCK_WRAP_SEC)) outsideMpegClock = true
    const span = state.span
    if (Number(m[5]) === 0) continue
    span.packets++
    if (pts != null) {
      span.start = span.start == null ? pts : Math.min(span.start, pts)
      span.end = span.end == null ? pts + duration : Math.max(span.end, pts + duration)
    }
    if (dts != null) { state.lastDts = dts; state.lastDuration = duration }
  }
  for (const r of raised) {
    const unit = timeBases.get(r.stream)
    if (running[r.stream]?.timed === true && unit != null && (r.previous - r.current) * unit > BACKWARD_STEP_SEC) {
      breaks++
    }
  }
  return {
    streams: new Map(streams.map((index, i) => [index, (running[i] as Running).span])),
    breaks,
    outsideMpegClock
  }
}

/**
 * A framecrc timestamp in ticks of another clock, rounded as ffmpeg rescales a timestamp to a
 * muxer's clock (to the nearest, halves away from zero); exact in integers, where a float product
 * of a 64-bit timestamp could miss the tick.
 */
function ticks (raw: string, scale: { num: bigint, den: bigint }): number | null {
  if (raw === NO_TIMESTAMP) return null
  const n = BigInt(raw) * scale.num
  const q = n / scale.den
  const r = n % scale.den
  return Number(2n * (r < 0n ? -r : r) >= scale.den ? q + (n < 0n ? -1n : 1n) : q)
}

/**
 * ffmpeg's own discontinuity test for TS-like inputs (ffmpeg.c 5.1, process_input): a decode time
 * further than the threshold from where the last packet ended. A step back never reaches the list
 * (ffmpeg raised it to the last time as it wrote it): readPacketList finds it in `raised`.
 */
function breaksTimeline (state: Running, dts: number | null): boolean {
  if (!state.timed || dts == null || state.lastDts == null) return false
  return Math.abs(dts - (state.lastDts + state.lastDuration)) > DTS_DELTA_THRESHOLD_SEC
}
