/**
 * Bench sources: h264 + AAC made with ffmpeg's lavfi sources, like test/fixtures/media.ts
 * `minute720p` but with the size and length as parameters. Each is made once and kept in a cache
 * folder, so repeated bench runs convert the same bytes.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The default cache; FFMESH_BENCH_MEDIA_DIR moves it (e.g. off a small /tmp). */
export const SAMPLE_CACHE_DIR = process.env.FFMESH_BENCH_MEDIA_DIR ?? path.join(os.tmpdir(), 'ffmesh-bench-media')

/** Keyframes every 2 s at 24 fps: the segmenter can cut close to any segment length asked for. */
const GOP_FRAMES = 48
const FRAME_RATE = 24

export interface SampleSpec { width: number, height: number, seconds: number }

export function describeSample (s: SampleSpec): string {
  return `${s.seconds} s ${s.width}x${s.height} ${FRAME_RATE} fps h264 + AAC (lavfi testsrc2 + sine)`
}

export async function makeBenchSample (s: SampleSpec, options: { signal?: AbortSignal } = {}): Promise<string> {
  await fs.mkdir(SAMPLE_CACHE_DIR, { recursive: true })
  const file = path.join(SAMPLE_CACHE_DIR, `sample-${s.width}x${s.height}-${s.seconds}s.mp4`)
  if (await fs.stat(file).then(st => st.size > 0, () => false)) return file
  const tmp = `${file}.${process.pid}.partial.mp4`
  await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=s=${s.width}x${s.height}:r=${FRAME_RATE}:d=${s.seconds}`,
      '-f',
      'lavfi',
      '-i',
      `sine=f=440:sample_rate=48000:d=${s.seconds}`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      String(GOP_FRAMES),
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      tmp
    ],
    { signal: options.signal }
  )
  await fs.rename(tmp, file)
  return file
}

/** Decoded video frames of a file (packets of its first video stream), to check outputs are whole. */
export async function countVideoFrames (file: string, options: { signal?: AbortSignal } = {}): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets',
    '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file], { signal: options.signal })
  return Number(stdout.trim())
}
