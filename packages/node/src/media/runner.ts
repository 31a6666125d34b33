import { spawn, type ChildProcess } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { FfmeshError, ErrorCodes } from '@ffmesh/protocol'
import type { Logger } from '../logger.js'
import { NO_SPACE_MESSAGE } from './disk-full.js'
import { createPriorityLauncher, EXEC_FAILED_EXIT_CODES, type ChildPriority } from './priority.js'

/** Time a child gets to exit after SIGTERM before SIGKILL; ffmpeg finalises a file in well under this. */
export const KILL_GRACE_MS = 3_000
/** stderr lines kept for an error reason: enough for ffmpeg's last complaint, not a whole log. */
export const STDERR_TAIL_LINES = 20
/**
 * The longest delay setTimeout takes (2^31 - 1 ms, about 24.8 days): a longer one fires at once
 * (TimeoutOverflowWarning), which stopped a whole-file unit instantly when a TS header claimed
 * 26 hours. A longer timeout waits this long instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1
/** ffprobe JSON bigger than this is refused; a packet list of a 10 h film is far below it. */
export const MAX_PROBE_OUTPUT_BYTES = 256 * 1024 * 1024

export interface FfmpegProgress { outTimeSec: number, frame: number }

export interface RunOptions {
  signal?: AbortSignal
  timeoutMs?: number
  onProgress?: (p: FfmpegProgress) => void
  /** A stream, or files streamed into stdin in order (pre-roll + own piece). */
  stdin?: NodeJS.ReadableStream | string[]
  /**
   * Read ffmpeg's final statistics into RunResult.packetsRead, and its raised decode times into
   * RunResult.dtsRaised (it logs them at verbose and warning level).
   */
  countPackets?: boolean
}

export interface RunResult {
  /**
   * With `countPackets`: the packets ffmpeg's demuxer read from each stream of its first input, by
   * stream index; the same count `ffprobe -count_packets` gives, from a pass that does other work.
   * Empty otherwise, or if this ffmpeg printed no statistics.
   */
  packetsRead: Map<number, number>
  /**
   * With `countPackets`: each decode time ffmpeg raised as it wrote a packet ("Non-monotonous
   * DTS"), in the output stream's time base: a stream copy writes no time below the last one, so a
   * clock that steps back shows here and nowhere in the output.
   */
  dtsRaised: DtsRaise[]
}

export interface DtsRaise { output: number, stream: number, previous: number, current: number }

export interface FfmpegRunner {
  readonly ffmpegPath: string
  readonly ffprobePath: string
  run(args: string[], options?: RunOptions): Promise<RunResult>
  /** Runs `ffprobe -print_format json ...args` and parses what it prints. */
  probeJson(args: string[], options?: { signal?: AbortSignal, stdin?: RunOptions['stdin'] }): Promise<unknown>
  /** The encoders this ffmpeg has, asked once. */
  encoders(): Promise<Set<string>>
  /** The filters this ffmpeg has, asked once: zscale, say, is there only when built with libzimg. */
  filters(): Promise<Set<string>>
  killAll(): Promise<void>
}

export interface FfmpegRunnerInit {
  ffmpegPath?: string
  ffprobePath?: string
  logger: Logger
  /** Lower CPU and I/O priority for every child; default: as this process. */
  priority?: ChildPriority
}

function notFound (binary: string): FfmeshError {
  return new FfmeshError(
    ErrorCodes.FFMPEG_NOT_FOUND,
    `cannot run "${binary}": install ffmpeg (for example \`apt-get install ffmpeg\`) or set ffmpeg.ffmpegPath / ffmpeg.ffprobePath in config.yaml`,
    { binary }
  )
}

function abortReason (signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('the operation was aborted', 'AbortError')
}

/**
 * Keeps the last lines of a text stream. `pick` may rewrite a line or drop it (null); it sees every
 * complete line once.
 */
function createTail (
  limit: number,
  pick: (line: string) => string | null = line => line
): { push: (chunk: Buffer) => void; text: () => string } {
  const lines: string[] = []
  let partial = ''
  return {
    push (chunk) {
      const parts = (partial + chunk.toString('utf8')).split(/\r?\n|\r/)
      partial = parts.pop() ?? ''
      for (const line of parts) {
        const kept = line.trim() === '' ? null : pick(line)
        if (kept != null) lines.push(kept)
      }
      if (lines.length > limit) lines.splice(0, lines.length - limit)
    },
    text: () =>
      [...lines, partial]
        .filter(l => l.trim() !== '')
        .slice(-limit)
        .join('\n')
  }
}

/** A line of `-loglevel level+…` output: an optional `[context @ 0x…] `, then `[level] ` and the message. */
const LEVELLED_LINE = /^(\[[^\]]* @ [^\]]*\] )?\[(\w+)\] (.*)$/
/** From ffmpeg's final statistics (4.x to 7.x): `  Input stream #0:1 (video): 1500 packets read (…)`. */
const PACKETS_READ = /^\s*Input stream #0:(\d+) \(\w+\): (\d+) packets read\b/
/** ffmpeg (4.x to 6.0, ffmpeg.c write_packet) raising a decode time below the last one it wrote. */
const DTS_RAISED = /^Non-monotonous DTS in output stream (\d+):(\d+); previous: (-?\d+), current: (-?\d+);/
const ERROR_LEVELS = new Set(['error', 'fatal', 'panic'])
/**
 * SVT-AV1 prints its banner and settings to stderr whatever ffmpeg's -loglevel: 16 lines before any
 * error, which filled the reason (cut to 500 characters on the wire) and hid the error itself.
 */
const ENCODER_CHATTER = /^Svt\[info\]:/

/**
 * For a run at `level+verbose`: records the packets-read statistics and keeps only the lines
 * `-loglevel error` would have printed, without their level tag, for the error reason.
 */
function verboseStderr (packetsRead: Map<number, number>, dtsRaised: DtsRaise[]): (line: string) => string | null {
  return line => {
    const m = LEVELLED_LINE.exec(line)
    if (m == null) return line
    const [, context = '', level = '', text = ''] = m
    const stats = PACKETS_READ.exec(text)
    if (stats != null) packetsRead.set(Number(stats[1]), Number(stats[2]))
    const raised = DTS_RAISED.exec(text)
    if (raised != null) {
      dtsRaised.push({
        output: Number(raised[1]),
        stream: Number(raised[2]),
        previous: Number(raised[3]),
        current: Number(raised[4])
      })
    }
    return ERROR_LEVELS.has(level) ? context + text : null
  }
}

/** Parses `-progress` key=value blocks; each block ends with a `progress=` line. */
function createProgressParser (onProgress: (p: FfmpegProgress) => void): (chunk: Buffer) => void {
  let partial = ''
  let outTimeSec = 0
  let frame = 0
  return chunk => {
    const lines = (partial + chunk.toString('utf8')).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      const eq = line.indexOf('=')
      if (eq < 0) continue
      const key = line.slice(0, eq).trim()
      const value = line.slice(eq + 1).trim()
      if (key === 'out_time_us' && /^-?\d+$/.test(value)) outTimeSec = Number(value) / 1e6
      else if (key === 'frame' && /^\d+$/.test(value)) frame = Number(value)
      else if (key === 'progress') onProgress({ outTimeSec, frame })
    }
  }
}

export function createFfmpegRunner (init: FfmpegRunnerInit): FfmpegRunner {
  const ffmpegPath = init.ffmpegPath ?? 'ffmpeg'
  const ffprobePath = init.ffprobePath ?? 'ffprobe'
  const log = init.logger.child({ component: 'ffmpeg' })
  const live = new Set<ChildProcess>()
  const launcher = createPriorityLauncher(init.priority ?? { nice: 0, ioIdle: false })
  const listed = new Map<string, Promise<Set<string>>>()
  /** The names `ffmpeg -<what>` lists, one per line that `line` matches, asked once unless it fails. */
  const names = (what: 'encoders' | 'filters', line: RegExp): Promise<Set<string>> => {
    const cached = listed.get(what)
    if (cached != null) return cached
    const asked = execute(ffmpegPath, ['-hide_banner', '-nostdin', `-${what}`], { capture: true }).then(({ stdout }) => {
      const found = new Set<string>()
      for (const text of stdout.toString('utf8').split('\n')) {
        const name = line.exec(text)?.[1]
        if (name != null) found.add(name)
      }
      return found
    })
    listed.set(what, asked)
    asked.catch(() => { listed.delete(what) })
    return asked
  }

  function terminate (child: ChildProcess): void {
    if (child.exitCode != null || child.signalCode != null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => {
      if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
    }, KILL_GRACE_MS)
    timer.unref()
    child.once('close', () => clearTimeout(timer))
  }

  /**
   * Spawns one child (argv, never a shell) and settles only after it has exited, so a rejected
   * promise never leaves a process behind.
   */
  function execute (
    binary: string,
    args: string[],
    options: RunOptions & { capture?: boolean }
  ): Promise<{ stdout: Buffer } & RunResult> {
    return new Promise((resolve, reject) => {
      const { signal } = options
      if (signal?.aborted === true) {
        reject(abortReason(signal))
        return
      }
      const feedsStdin = options.stdin != null
      const started = performance.now()
      const launch = launcher.command(binary, args)
      const child = spawn(launch.file, launch.args, { stdio: [feedsStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
      live.add(child)
      const packetsRead = new Map<number, number>()
      const dtsRaised: DtsRaise[] = []
      let noSpace: string | null = null
      const pick = options.countPackets === true ? verboseStderr(packetsRead, dtsRaised) : (line: string) => line
      const tail = createTail(STDERR_TAIL_LINES, line => {
        if (noSpace == null && NO_SPACE_MESSAGE.test(line)) noSpace = line.trim()
        return ENCODER_CHATTER.test(line) ? null : pick(line)
      })
      const out: Buffer[] = []
      let outBytes = 0
      let failure: Error | undefined
      const fail = (err: Error): void => {
        failure ??= err
        terminate(child)
      }

      const parseProgress = options.onProgress != null ? createProgressParser(options.onProgress) : undefined
      child.stdout?.on('data', (chunk: Buffer) => {
        if (options.capture === true) {
          outBytes += chunk.length
          if (outBytes > MAX_PROBE_OUTPUT_BYTES) {
            fail(new FfmeshError(ErrorCodes.INTERNAL, `${binary} printed more than ${MAX_PROBE_OUTPUT_BYTES} bytes`))
          } else out.push(chunk)
        }
        parseProgress?.(chunk)
      })
      child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk))

      const onAbort = (): void => fail(abortReason(signal as AbortSignal))
      signal?.addEventListener('abort', onAbort, { once: true })
      const timer =
        options.timeoutMs != null
          ? setTimeout(
              () =>
                fail(
                  new FfmeshError(
                    ErrorCodes.CONVERT_TIMEOUT,
                    `ffmpeg ran longer than ${Math.round((options.timeoutMs ?? 0) / 1000)} s and was stopped; the unit will be retried`
                  )
                ),
              Math.min(options.timeoutMs, MAX_TIMER_MS)
            )
          : undefined

      if (feedsStdin && child.stdin != null) {
        feedStdin(child.stdin, options.stdin as NodeJS.ReadableStream | string[], fail)

      }
      child.once('error', (err: NodeJS.ErrnoException) => {
        failure ??= err.code === 'ENOENT' || err.code === 'EACCES' ? notFound(binary) : err
      })
      child.once('close', (code, sig) => {
        live.delete(child)
        signal?.removeEventListener('abort', onAbort)
        if (timer != null) clearTimeout(timer)
        // At debug level every child's run time is in the log: where a job's seconds went.
        log.debug({ binary, code, ms: Math.round(performance.now() - started), args: args.slice(-1) }, 'child exited')
        if (failure != null) {
          reject(failure)
          return
        }
        // Checked before the exit code: ffmpeg may exit 0 with an output it could not finish writing.
        // The last line, if ffmpeg ended it without a newline, was not seen as a line yet.
        const stderr = tail.text()
        noSpace ??= NO_SPACE_MESSAGE.test(stderr) ? stderr : null
        if (noSpace != null) {
          reject(
            new FfmeshError(
              ErrorCodes.DISK_FULL,
              `${binary} could not write its output: ${noSpace}; free some space and the step runs again`,
              { exitCode: code, stderr }
            )
          )
          return
        }
        if (code === 0) {
          resolve({ stdout: Buffer.concat(out), packetsRead, dtsRaised })
          return
        }
        // Through nice/ionice a missing binary is their exit code, not a spawn error.
        if (launch.wrapped && code != null && EXEC_FAILED_EXIT_CODES.includes(code)) {
          reject(notFound(binary))
          return
        }
        const reason = tail.text()
        log.debug({ binary, code, signal: sig, reason }, 'child failed')
        reject(
          new FfmeshError(
            ErrorCodes.CONVERT_FAILED,
            `${binary} exited with ${code ?? sig}: ${reason === '' ? 'no error output' : reason}`,
            { exitCode: code, stderr: reason }
          )
        )
      })
    })
  }

  return {
    ffmpegPath,
    ffprobePath,
    async run (args, options = {}) {
      // The final statistics are logged at verbose level; `level` tags each line so the rest is dropped.
      const full = [
        '-hide_banner',
        '-nostats',
        '-loglevel',
        options.countPackets === true ? 'level+verbose' : 'error',
        '-y'
      ]
      if (options.stdin == null) full.push('-nostdin')
      full.push('-progress', 'pipe:1', ...args)
      log.debug({ args: full }, 'ffmpeg')
      const { packetsRead, dtsRaised } = await execute(ffmpegPath, full, options)
      return { packetsRead, dtsRaised }
    },
    async probeJson (args, options = {}) {
      const { stdout } = await execute(
        ffprobePath,
        ['-hide_banner', '-loglevel', 'error', '-print_format', 'json', ...args],
        { ...options, capture: true }
      )
      return JSON.parse(stdout.toString('utf8')) as unknown
    },
    encoders () {
      // ` V....D libx264  …`: six flag columns, then the name.
      return names('encoders', /^\s*[VAS][A-Z.]{5}\s+([A-Za-z0-9_-]+)\s/)
    },
    filters () {
      // ` TSC zscale  V->V  …`: three flag columns, then the name.
      return names('filters', /^\s*[T.][S.][C.]\s+([A-Za-z0-9_]+)\s/)
    },
    async killAll () {
      const children = [...live]
      await Promise.all(children.map(async child => {
        const closed = new Promise<void>(resolve => child.once('close', () => resolve()))
        terminate(child)
        await closed
      }))
    }
  }
}

/** Streams a readable or several files into stdin one after the other. */
function feedStdin (
  stdin: NodeJS.WritableStream,
  source: NodeJS.ReadableStream | string[],
  fail: (err: Error) => void
): void {
  // ffmpeg may stop reading early (it failed, or it was stopped); a broken pipe is then expected.
  stdin.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') fail(err)
  })
  if (!Array.isArray(source)) {
    source.pipe(stdin)
    return
  }
  const files = [...source]
  const next = (): void => {
    const file = files.shift()
    if (file == null) {
      stdin.end()
      return
    }
    const reader = createReadStream(file)
    reader.once('error', err => {
      fail(err)
      stdin.end()
    })
    reader.once('end', next)
    reader.pipe(stdin, { end: false })
  }
  next()
}

/** Fails with FFMPEG_NOT_FOUND unless both ffmpeg and ffprobe run. */
export async function checkFfmpeg (runner: FfmpegRunner, options: { signal?: AbortSignal } = {}): Promise<void> {
  await runner.encoders()
  await runner.probeJson(['-show_program_version'], options)
}
