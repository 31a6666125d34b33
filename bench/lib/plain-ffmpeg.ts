/** The baseline every media bench divides by: one plain ffmpeg command, timed in wall and CPU seconds. */
import { spawn } from 'node:child_process'
import { childCpuSeconds } from './report.ts'

export interface PlainRun { wallMs: number, cpuSec: number, argv: string[] }

/**
 * The encoder settings of the built-in `h264` profile (libx264 CRF 23 preset medium, AAC 160k,
 * timestamps passed through), on the whole file at once. `threads` 0 leaves x264 to choose, as the
 * node does with worker.threads 0. `pinCore` runs it under `taskset -c`; `slice` converts only that
 * stretch of the source (input seeking), for the scaling bench's ceiling.
 */
export function plainH264Argv (source: string, out: string, init: { threads: number, pinCore?: number, slice?: { start: number, seconds: number } }): string[] {
  const slice = init.slice != null ? ['-ss', String(init.slice.start), '-t', String(init.slice.seconds)] : []
  const ffmpeg = ['ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...slice, '-i', source,
    '-map', '0:v:0', '-map', '0:a', '-c:v', 'libx264', '-crf', '23', '-preset', 'medium', '-fps_mode', 'passthrough',
    ...(init.threads > 0 ? ['-threads', String(init.threads)] : []),
    '-c:a', 'aac', '-b:a', '160k', out]
  return init.pinCore != null ? ['taskset', '-c', String(init.pinCore), ...ffmpeg] : ffmpeg
}

export async function runPlain (argv: string[], options: { signal?: AbortSignal } = {}): Promise<PlainRun> {
  const cpu0 = childCpuSeconds()
  const t0 = performance.now()
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], signal: options.signal })
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
