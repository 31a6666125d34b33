/**
 * Converts a source through ffmesh's whole pipeline (probe, plan, convert every unit, assemble,
 * verify: the functions a mesh job runs) and holds the output against what the source really
 * holds, read independently (media-truth.ts).
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'vitest'
import { DEFAULT_PROFILES, type Profile } from '@ffmesh/protocol'
import { convertLocally, type LocalConvertResult } from './local-pipeline.js'
import type { FfmpegRunner } from '../../packages/node/src/media/runner.js'
import { AUDIO_DURATION_TOLERANCE_SEC } from '../../packages/node/src/media/verify.js'
import { framePsnr, readTruth, type MediaTruth } from '../fixtures/media-truth.js'

const run = promisify(execFile)

/** Below this a frame of the output is not the source's frame shown the same way (x264 at CRF 23 scores above 35). */
export const SAME_PICTURE_PSNR_DB = 25
/** The shown frame compared for orientation: past the start, where a mid-GOP recording's first frames are. */
const COMPARED_FRAME = 12

/** A default profile with the fastest preset: the tests check fidelity, not compression. */
export function fastProfile (name: string, change: (p: Profile) => void = () => {}): Profile {
  const p = structuredClone(DEFAULT_PROFILES.find(x => x.name === name)) as Profile
  if (p.video != null) p.video.preset = 'ultrafast'
  change(p)
  return p
}

export interface Converted {
  file: string
  out: string
  result: LocalConvertResult
  source: MediaTruth
  output: MediaTruth
}

export async function convertAndRead (
  runner: FfmpegRunner,
  dir: string,
  source: string,
  profile: Profile,
  segmentSeconds = 2
): Promise<Converted> {
  const name = source.split('/').at(-1) as string
  const out = join(dir, `${name}.${profile.name}.${profile.container}`)
  const result = await convertLocally(runner, {
    source,
    profile,
    segmentSeconds,
    workDir: join(dir, `work-${name}-${profile.name}`),
    outFile: out,
    parallel: 2
  })
  const [sourceTruth, outputTruth] = await Promise.all([
    readTruth(source, { decode: true }),
    readTruth(out, { decode: false })
  ])
  return { file: source, out, result, source: sourceTruth, output: outputTruth }
}

/** A plain `ffmpeg -i source` conversion of picture and sound: the reference for clocks ffmpeg corrects as it reads. */
export async function plainRun (source: string, out: string): Promise<MediaTruth> {
  await run('ffmpeg', [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-i',
    source,
    '-map',
    '0:V',
    '-map',
    '0:a?',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-fps_mode',
    'passthrough',
    '-c:a',
    'aac',
    out
  ])
  return await readTruth(out, { decode: false })
}

export interface KeptOptions {
  /** The reference for frames, duration and A/V offset when not the source itself (a joined recording: a plain run). */
  reference?: MediaTruth
  /** Subtitle codecs the output container turns them into; the source's own by default. */
  subtitleCodecs?: string[]
  /** Cover pictures the output keeps; the source's count by default. */
  pictures?: number
}

/** Every property the output must keep of its source (see MediaTruth); a video job's. */
export async function expectVideoKept (c: Converted, options: KeptOptions = {}): Promise<void> {
  const { source, output } = c
  const reference = options.reference ?? source
  const frameSec = source.frameSec ?? 1 / 25
  expect(c.result.units.filter(u => u.kind === 'segment').length, 'converted in segments').toBeGreaterThanOrEqual(2)
  expect(output.videoFrames, 'frames').toBe(source.videoFrames)
  if (options.reference != null) expect(output.videoFrames, 'frames of a plain run').toBe(reference.videoFrames)
  expect(
    output.audio.map(a => [a.channels, a.language]),
    'audio tracks'
  ).toEqual(source.audio.map(a => [a.channels, a.language]))
  expect(output.subtitles, 'subtitle tracks').toEqual(
    source.subtitles.map((s, i) => ({ ...s, codec: options.subtitleCodecs?.[i] ?? s.codec }))
  )
  expect(output.attachments, 'attachments').toEqual(source.attachments)
  expect(output.pictures, 'cover pictures').toBe(options.pictures ?? source.pictures)
  expect(output.chapters, 'chapters').toEqual(source.chapters)
  expect(output.display, 'display size').toBe(source.display)
  expect(await framePsnr(c.out, c.file, COMPARED_FRAME), 'the same picture, the same way up').toBeGreaterThan(
    SAME_PICTURE_PSNR_DB
  )
  expect(output.colour, 'colour primaries / transfer / matrix').toBe(source.colour)
  if (reference.avOffset != null) {
    expect(Math.abs((output.avOffset as number) - reference.avOffset), 'A/V start offset').toBeLessThanOrEqual(frameSec)
  }
  const tolerance = frameSec + (source.audio.length > 0 ? AUDIO_DURATION_TOLERANCE_SEC : 0)
  const span = options.reference != null ? reference.headerDuration : source.span
  expect(
    Math.abs(output.headerDuration - span),
    `duration ${output.headerDuration} against ${span}`
  ).toBeLessThanOrEqual(tolerance)
}
