import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, type Profile } from '@ffmesh/protocol'
import { decodedFrameCount, makeSample, SAMPLE_FACTS, videoFrameTimes } from '../../../../test/fixtures/media.js'
import { createLogger } from '../logger.js'
import { convertUnit } from './convert.js'
import { convertLocally } from '../../../../test/helpers/local-pipeline.js'
import { planSource } from './plan.js'
import { countFrames, probeSource } from './probe.js'
import { createFfmpegRunner } from './runner.js'

const exec = promisify(execFile)
const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
/** Matroska stores milliseconds; two rounded copies of one timestamp differ by at most this. */
const TIMESTAMP_TOLERANCE_SEC = 0.0011

const h264: Profile = (() => {
  const p = structuredClone(DEFAULT_PROFILES.find(x => x.name === 'h264')) as Profile
  if (p.video != null) p.video.preset = 'ultrafast'
  return p
})()

/** The same encode as one plain ffmpeg run over the whole file: the reference for frames and times. */
async function directH264 (source: string, out: string): Promise<void> {
  await exec('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-i',
    source,
    '-map',
    '0:v:0',
    '-an',
    '-c:v',
    'libx264',
    '-crf',
    '23',
    '-preset',
    'ultrafast',
    '-fps_mode',
    'passthrough',
    out
  ])
}

interface Probed { codec_type?: string, codec_name?: string, tags?: Record<string, string> }

async function probeJson (file: string): Promise<{ streams: Probed[], chapters: unknown[], format: Probed }> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_streams',
    '-show_chapters',
    '-show_format',
    file
  ])
  return JSON.parse(stdout)
}

function relative (times: number[]): number[] {
  const first = times[0] ?? 0
  return times.map(t => t - first)
}

function expectSameTimes (ours: number[], reference: number[]): void {
  expect(ours.length).toBe(reference.length)
  const worst = relative(ours).reduce((w, t, i) => Math.max(w, Math.abs(t - (relative(reference)[i] as number))), 0)
  expect(worst).toBeLessThanOrEqual(TIMESTAMP_TOLERANCE_SEC)
}

describe('fidelity across segment joins', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffmesh-fidelity-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  async function pipeline (
    source: string,
    name: string,
    segmentSeconds: number,
    profile: Profile = h264
  ): Promise<{ out: string; segments: number }> {
    const out = join(dir, `${name}-out.${profile.container}`)
    const { units } = await convertLocally(runner, {
      source,
      profile,
      segmentSeconds,
      workDir: join(dir, `work-${name}`),
      outFile: out,
      parallel: 2
    })
    return { out, segments: units.filter(u => u.kind === 'segment').length }
  }

  it('keeps both audio tracks, both subtitles, chapters, title and attachment of a multi-track MKV', async () => {
    const source = await makeSample('multiTrackMkv', dir)
    const { out, segments } = await pipeline(source, 'multi-track', 3)
    expect(segments).toBeGreaterThanOrEqual(3)
    const probe = await probeJson(out)
    const facts = SAMPLE_FACTS.multiTrackMkv
    const ofType = (t: string): Probed[] => probe.streams.filter(s => s.codec_type === t)
    expect(ofType('audio').map(s => [s.codec_name, s.tags?.language, s.tags?.title])).toEqual([
      ['aac', 'eng', 'English tone'],
      ['aac', 'fra', 'French tone']
    ])
    expect(ofType('subtitle').map(s => [s.codec_name, s.tags?.language])).toEqual([['subrip', 'eng'], ['ass', 'fra']])
    expect(ofType('attachment')).toHaveLength(facts.attachments)
    expect(probe.chapters).toHaveLength(facts.chapters)
    expect(probe.format.tags?.title).toBe(facts.title)
    const direct = join(dir, 'multi-track-direct.mkv')
    await directH264(source, direct)
    expectSameTimes(await videoFrameTimes(out), await videoFrameTimes(direct))
    expect((await countFrames(runner, out)).frames).toBe(await decodedFrameCount(source))
  })

  it('loses no frame of an open-GOP MPEG-2 TS (B-frames lead each GOP)', async () => {
    const source = await makeSample('openGopTs', dir)
    const { out, segments } = await pipeline(source, 'open-gop', 2)
    expect(segments).toBeGreaterThanOrEqual(4)
    const direct = join(dir, 'open-gop-direct.mkv')
    await directH264(source, direct)
    const decoded = await decodedFrameCount(source)
    expect(decoded).toBe(300)
    expect((await countFrames(runner, direct)).frames).toBe(decoded)
    expect((await countFrames(runner, out)).frames).toBe(decoded)
    expectSameTimes(await videoFrameTimes(out), await videoFrameTimes(direct))
  })

  it('loses no frame of an H.264 open-GOP Matroska file (recovery-point keyframes)', async () => {
    const source = await makeSample('openGopH264Mkv', dir)
    const { out, segments } = await pipeline(source, 'open-gop-h264', 2)
    expect(segments).toBeGreaterThanOrEqual(4)
    const direct = join(dir, 'open-gop-h264-direct.mkv')
    await directH264(source, direct)
    expect((await countFrames(runner, out)).frames).toBe(await decodedFrameCount(source))
    expectSameTimes(await videoFrameTimes(out), await videoFrameTimes(direct))
  })

  it('counts a TS that starts mid-stream as a direct run decodes it', async () => {
    const source = await makeSample('midGopTs', dir)
    const info = await probeSource(runner, source)
    expect(info.leadingUndecodable).toBeGreaterThan(0)
    const decoded = await decodedFrameCount(source)
    const workDir = join(dir, 'plan-mid-gop')
    await mkdir(workDir)
    expect((await planSource(runner, { source, info, profile: h264, segmentSeconds: 2, workDir })).videoFrames).toBe(
      decoded
    )
    const { out, segments } = await pipeline(source, 'mid-gop', 2)
    expect(segments).toBeGreaterThanOrEqual(3)
    const direct = join(dir, 'mid-gop-direct.mkv')
    await directH264(source, direct)
    expect((await countFrames(runner, out)).frames).toBe(decoded)
    expectSameTimes(await videoFrameTimes(out), await videoFrameTimes(direct))
  })

  it('needs the pre-roll: a segment decoded without it loses its leading B-frames', async () => {
    // The control for the test above: if this ever passes without pre-roll, the sample has no open GOPs.
    const source = await makeSample('openGopTs', dir)
    const info = await probeSource(runner, source)
    const workDir = join(dir, 'plan-open-gop')
    await mkdir(workDir)
    const { units } = await planSource(runner, { source, info, profile: h264, segmentSeconds: 2, workDir })
    const unit = units[2]
    if (unit == null || unit.kind !== 'segment') throw new Error('expected a third segment')
    expect(unit.preRoll).toBe(true)
    const spec = {
      jobId: '0'.repeat(26),
      index: 2,
      kind: unit.kind,
      preRoll: false,
      range: unit.range,
      durationSec: unit.durationSec,
      inputFormat: unit.inputFormat,
      profile: h264
    }
    const own = await convertUnit(runner, {
      spec: { ...spec, inputs: [{ hash: '0'.repeat(128), size: 0 }] },
      inputs: [unit.files[1] as string],
      outFile: join(dir, 'no-preroll.mkv')
    })
    expect(own.frames).toBeLessThan(unit.expectedFrames ?? 0)
    const progress: number[] = []
    const both = await convertUnit(
      runner,
      {
        spec: {
          ...spec,
          preRoll: true,
          inputs: [
            { hash: '0'.repeat(128), size: 0 },
            { hash: '0'.repeat(128), size: 0 }
          ]
        },
        inputs: unit.files,
        outFile: join(dir, 'with-preroll.mkv')
      },
      { onProgress: f => progress.push(f) }
    )
    expect(both.frames).toBe(unit.expectedFrames)
    // Progress counts the unit's own frames, not the pre-roll's.
    expect(progress.at(-1)).toBeGreaterThan(0.9)
    expect(progress.every((f, i) => i === 0 || f >= (progress[i - 1] as number))).toBe(true)
    expect(progress.every(f => f >= 0 && f <= 1)).toBe(true)
  })

  it('keeps every frame and time of a 23.976 fps MP4 with B-frames', async () => {
    const source = await makeSample('bframesMp4', dir)
    const { out, segments } = await pipeline(source, 'bframes', 2)
    expect(segments).toBeGreaterThanOrEqual(3)
    const direct = join(dir, 'bframes-direct.mkv')
    await directH264(source, direct)
    expect((await countFrames(runner, out)).frames).toBe(await decodedFrameCount(source))
    expectSameTimes(await videoFrameTimes(out), await videoFrameTimes(direct))
  })

  it('gives closed-GOP pieces no pre-roll (they decode alone) and open-GOP pieces one', async () => {
    const plan = async (kind: 'bframesMp4' | 'openGopTs'): Promise<boolean[]> => {
      const source = await makeSample(kind, dir)
      const workDir = join(dir, `plan-preroll-${kind}`)
      await mkdir(workDir)
      const { units } = await planSource(runner, {
        source,
        info: await probeSource(runner, source),
        profile: h264,
        segmentSeconds: 2,
        workDir
      })
      return units.filter(u => u.kind === 'segment').slice(1).map(u => u.preRoll)
    }
    const closed = await plan('bframesMp4')
    expect(closed.length).toBeGreaterThanOrEqual(2)
    expect(closed.every(p => !p)).toBe(true)
    const open = await plan('openGopTs')
    expect(open.length).toBeGreaterThanOrEqual(2)
    expect(open.every(p => p)).toBe(true)
  })

  it('keeps a variable frame rate variable, every frame at its time', async () => {
    const source = await makeSample('vfrMp4', dir)
    const { out, segments } = await pipeline(source, 'vfr', 2)
    expect(segments).toBeGreaterThanOrEqual(3)
    const direct = join(dir, 'vfr-direct.mkv')
    await directH264(source, direct)
    const times = await videoFrameTimes(out)
    expectSameTimes(times, await videoFrameTimes(direct))
    expectSameTimes(times, await videoFrameTimes(source))
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number))
    expect(Math.max(...gaps) / Math.min(...gaps)).toBeGreaterThan(2) // 1/30 s next to 3/30 s
  })

  it('splits a VP9 source into Matroska pieces and keeps every frame and time', async () => {
    const source = join(dir, 'vp9-source.webm')
    await exec('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-i',
      await makeSample('vfrMp4', dir),
      '-c:v',
      'libvpx-vp9',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-g',
      '20',
      '-b:v',
      '300k',
      '-c:a',
      'libopus',
      '-fps_mode',
      'passthrough',
      source
    ])
    const { out, segments } = await pipeline(source, 'vp9-source', 2)
    expect(segments).toBeGreaterThanOrEqual(3)
    const direct = join(dir, 'vp9-direct.mkv')
    await directH264(source, direct)
    expect((await countFrames(runner, out)).frames).toBe(await decodedFrameCount(source))
    expectSameTimes(await videoFrameTimes(out), await videoFrameTimes(direct))
  })
})
