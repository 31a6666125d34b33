/** The baseline every media bench divides by: one plain ffmpeg command, timed in wall and CPU seconds. */
import { spawn } from 'node:child_process'
import { DEFAULT_PROFILES } from '@ffmesh/protocol'
import { ConfigSchema } from '../../packages/node/dist/index.js'
import { audioEncoderArgs, videoEncoderArgs } from '../../packages/node/dist/media/profile-args.js'
import { trackChild } from './cleanup.ts'
import { childCpuSeconds } from './report.ts'

export interface PlainRun { wallMs: number, cpuSec: number, argv: string[] }

/**
 * The CPU priority a node gives its ffmpeg by default (worker.nice). The baseline runs at it too:
 * on a host where anything else runs, ffmpeg at nice 10 against a plain one at nice 0 measured the
 * priority, not the work (the scheduler gives a nice-0 task about nine times the share of a nice-10 one).
 */
export const NODE_DEFAULT_NICE = ConfigSchema.parse({}).worker.nice

/** Profiles the media benches can convert with: the built-in ones a plain command line can mirror. */
export const PLAIN_PROFILES = ['h264', 'h265'] as const
export type PlainProfile = typeof PLAIN_PROFILES[number]

export function plainProfile (name: string | undefined): PlainProfile {
  const found = PLAIN_PROFILES.find(p => p === (name ?? 'h264'))
  if (found == null) {
    throw new Error(
      `--profile ${String(name)}: the benches mirror only ${PLAIN_PROFILES.join(', ')} with a plain ffmpeg command`
    )
  }
  return found
}

/**
 * A built-in profile's encoding (for `h264`: libx264 CRF 23 preset medium, AAC 160k, timestamps
 * passed through) as one direct ffmpeg command on the whole file, with the node's own encoder
 * arguments, so the baseline and the units encode alike: `threads` 1 also keeps x265 on ffmpeg's
 * thread (`pools=none`), as the node does for worker.threads 1; 0 leaves the encoder to choose.
 * `pinCore` runs it under `taskset -c`; `slice` converts only that stretch of the source (input
 * seeking), for the scaling bench's ceiling. It runs under `nice` at the node's default priority.
 */
export function plainArgv (
  source: string,
  out: string,
  init: { profile?: PlainProfile; threads: number; pinCore?: number; slice?: { start: number; seconds: number } }
): string[] {
  const name = init.profile ?? 'h264'
  const profile = DEFAULT_PROFILES.find(p => p.name === name)
  const { video, audio } = profile ?? {}
  if (video == null || audio == null || typeof audio !== 'object') {
    throw new Error(`the built-in profile ${name} is not a video profile with an audio encoder`)
  }
  const slice = init.slice != null ? ['-ss', String(init.slice.start), '-t', String(init.slice.seconds)] : []
  const ffmpeg = [
    'ffmpeg',
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    ...slice,
    '-i',
    source,
    '-map',
    '0:v:0',
    '-map',
    '0:a',
    ...videoEncoderArgs(video, init.threads),
    ...audioEncoderArgs(audio),
    out
  ]
  const niced = NODE_DEFAULT_NICE > 0 ? ['nice', '-n', String(NODE_DEFAULT_NICE), ...ffmpeg] : ffmpeg
  return init.pinCore != null ? ['taskset', '-c', String(init.pinCore), ...niced] : niced
}

export async function runPlain (argv: string[], options: { signal?: AbortSignal } = {}): Promise<PlainRun> {
  const cpu0 = childCpuSeconds()
  const t0 = performance.now()
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], signal: options.signal })
  trackChild(child)
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  const wallMs = performance.now() - t0
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${String(code)}: ${stderr.slice(-2000)}`)
  return { wallMs, cpuSec: childCpuSeconds() - cpu0, argv }
}
