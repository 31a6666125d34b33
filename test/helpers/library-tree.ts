import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

/** A small media library made with ffmpeg's lavfi sources, for the library tests. */
const run = promisify(execFile)

const SMALL = 's=320x240'

export async function ffmpeg (args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], {
    maxBuffer: 16 * 1024 * 1024
  })
}

/** A 3 s clip with audio; `codec` libx264 or libx265, `crf` its quality, `tone` makes the content differ. */
export async function makeVideo (
  file: string,
  init: { codec?: 'libx264' | 'libx265'; crf?: number; tone?: number; seconds?: number } = {}
): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  const seconds = init.seconds ?? 3
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `testsrc2=${SMALL}:r=25:d=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=f=${init.tone ?? 440}:sample_rate=48000:d=${seconds}`,
    '-c:v',
    init.codec ?? 'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    String(init.crf ?? 18),
    '-g',
    '25',
    ...(init.codec === 'libx265' ? ['-x265-params', 'log-level=error'] : []),
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    file
  ])
  return file
}

/** Stereo noise in FLAC: large for its length, so an Opus output is much smaller. */
export async function makeAudio (file: string): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  await ffmpeg(['-f', 'lavfi', '-i', 'anoisesrc=d=4:c=pink:a=0.3:r=48000', '-ac', '2', '-c:a', 'flac', file])
  return file
}

/** A noisy picture in PNG (lossless), which WebP at quality 80 makes much smaller. */
export async function makeImage (file: string): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=480x360', '-vf', 'noise=alls=40:allf=u', '-frames:v', '1', file])
  return file
}

export async function sha256 (file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex')
}

/** Every regular file under `dir`, relative to it, sorted. */
export async function treeFiles (dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter(e => e.isFile()).map(e => path.relative(dir, path.join(e.parentPath, e.name))).sort()
}

/** The codec of the first video (or audio) stream and its packet count, by ffprobe. */
export async function probeStream (
  file: string,
  select: 'v:0' | 'a:0' = 'v:0'
): Promise<{ codec: string; packets: number }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    select,
    '-count_packets',
    '-show_entries',
    'stream=codec_name,nb_read_packets',
    '-of',
    'json',
    file
  ])
  const stream = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; nb_read_packets: string }> }).streams[0]
  return { codec: stream?.codec_name ?? '', packets: Number(stream?.nb_read_packets ?? 0) }
}
