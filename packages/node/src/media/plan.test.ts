import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, type Profile } from '@ffmesh/protocol'
import { makeSample } from '../../../../test/fixtures/media.js'
import { packetCount } from '../../../../test/fixtures/media-truth.js'
import { countingRunner } from '../../../../test/helpers/counting-runner.js'
import { createLogger } from '../logger.js'
import { planSource } from './plan.js'
import { probeSource } from './probe.js'
import { createFfmpegRunner, type FfmpegRunner } from './runner.js'

const exec = promisify(execFile)
const h264 = DEFAULT_PROFILES.find(p => p.name === 'h264') as Profile
const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })

/** Packets of one piece read on its own: the reference the batched probe must agree with. */
async function pieceAlone (file: string): Promise<{ frames: number, minPts: number }> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time',
    '-of',
    'json',
    file
  ])
  const times = (JSON.parse(stdout) as { packets: Array<{ pts_time: string }> }).packets.map(p => Number(p.pts_time))
  return { frames: times.length, minPts: Math.min(...times) }
}

describe('the source frame count a plan gives', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffmesh-plan-count-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('counts a source it converts whole, and only when the output is checked against it', async () => {
    const source = await makeSample('shortClip', dir)
    const info = await probeSource(runner, source)
    expect(info.videoFrames).toBeNull()
    const workDir = join(dir, 'work')
    await mkdir(workDir)
    const whole = await planSource(runner, { source, info, profile: h264, segmentSeconds: 10, workDir })
    expect(whole.units.map(u => u.kind)).toEqual(['whole'])
    expect(whole.videoFrames).toBe(await packetCount(source, info.videoStreamIndex as number))
    expect(whole.units[0]?.expectedFrames).toBe(whole.videoFrames)
    // A fixed output rate changes the frame count: nothing to count the output against.
    const fixedRate = { ...h264, video: { ...h264.video, frameRate: 30 } } as Profile
    expect(
      (await planSource(runner, { source, info, profile: fixedRate, segmentSeconds: 10, workDir })).videoFrames
    ).toBeNull()
  })

  it('reads an MP4 it converts whole from its index, with no ffmpeg pass; a Matroska source is scanned', async () => {
    const counted = countingRunner(runner)
    const plan = async (kind: 'shortClip' | 'openGopH264Mkv'): Promise<void> => {
      const source = await makeSample(kind, dir)
      const info = await probeSource(runner, source)
      const workDir = join(dir, `work-${kind}`)
      await mkdir(workDir)
      const init = { source, info, profile: h264, segmentSeconds: 10, workDir, whole: true }
      const whole = await planSource(counted.runner, init)
      expect(whole.units.map(u => u.kind)).toEqual(['whole'])
      expect(whole.videoFrames).toBe(
        (await packetCount(source, info.videoStreamIndex as number)) - (info.leadingUndecodable ?? 0)
      )
    }
    await plan('shortClip')
    expect(counted.runs()).toBe(0)
    await plan('openGopH264Mkv')
    expect(counted.runs()).toBe(1)
  }, 60_000)
})

describe('planning TS pieces with one probe', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffmesh-plan-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  // Pieces are read through ffmpeg's concat protocol; a path holding its separator `|` goes
  // through stdin instead, with the same result.
  it.each([
    ['openGopTs', 'work', 'concat:'],
    ['bframesMp4', 'work', 'concat:'],
    ['openGopTs', 'work|piped', 'pipe:0']
  ] as const)(
    'gives every %s piece the frames and start it has when probed alone, in one ffprobe (%s, input %s)',
    async (kind, workName, input) => {
      const real = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
      const probes: string[][] = []
      const counting: FfmpegRunner = {
        ...real,
        probeJson: async (args, options) => {
          probes.push(args)
          return await real.probeJson(args, options)
        }
      }
      const source = await makeSample(kind, dir)
      const workDir = join(dir, `${workName}-${kind}`)
      await mkdir(workDir)
      const info = await probeSource(real, source)
      const { units, videoFrames } = await planSource(counting, {
        source,
        info,
        profile: h264,
        segmentSeconds: 2,
        workDir
      })
      const segments = units.filter(u => u.kind === 'segment')
      expect(segments.length).toBeGreaterThanOrEqual(3)
      // The cut counted the source as it read it: no probe read the source again for its count.
      expect(probes).toHaveLength(1)
      expect(videoFrames).toBe(
        (await packetCount(source, info.videoStreamIndex as number)) - (info.leadingUndecodable ?? 0)
      )
      expect(probes[0]?.filter(arg => arg.startsWith(input))).toHaveLength(1)
      for (const [i, unit] of segments.entries()) {
        const alone = await pieceAlone(unit.files.at(-1) as string)
        // The first piece's count leaves out what no decoder can show (a mid-stream start).
        if (i > 0) expect(unit.expectedFrames).toBe(alone.frames)
        expect(unit.range?.start).toBeCloseTo(alone.minPts, 6)
      }
    }
  )
})
