import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, type Profile } from '@ffmesh/protocol'
import { makeSample, type SampleKind } from '../../../../test/fixtures/media.js'
import { packetCount, pieceAlone } from '../../../../test/fixtures/media-truth.js'
import { countingRunner } from '../../../../test/helpers/counting-runner.js'
import { createLogger } from '../logger.js'
import { readPieces } from './pieces.js'
import { planSource } from './plan.js'
import { probeSource } from './probe.js'
import { createFfmpegRunner } from './runner.js'

const h264 = DEFAULT_PROFILES.find(p => p.name === 'h264') as Profile
const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })

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

describe('planning TS pieces', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffmesh-plan-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  /** Plans `kind` in 2 s segments through a runner that records every ffprobe's arguments. */
  async function planRecorded (kind: SampleKind, workName: string) {
    const { runner: recording, probeArgs: probes } = countingRunner(runner)
    const source = await makeSample(kind, dir)
    const workDir = join(dir, `${workName}-${kind}`)
    await mkdir(workDir)
    const info = await probeSource(runner, source)
    const plan = await planSource(recording, { source, info, profile: h264, segmentSeconds: 2, workDir })
    const segments = plan.units.filter(u => u.kind === 'segment')
    expect(segments.length).toBeGreaterThanOrEqual(3)
    expect(plan.videoFrames).toBe(
      (await packetCount(source, info.videoStreamIndex as number)) - (info.leadingUndecodable ?? 0)
    )
    return { probes, segments }
  }

  // The cut lists the source's packets as it reads them; the pieces are counted from that list,
  // with no ffprobe (the TS muxer's time offset is read from the first and last piece's first bytes).
  it.each(['openGopTs', 'bframesMp4', 'openGopH264Mkv', 'midGopTs', 'vfrMp4'] as const)(
    'counts every %s piece from the cut\'s packet list as reading the piece alone does',
    async kind => {
      const { probes, segments } = await planRecorded(kind, 'tally')
      expect(probes).toEqual([])
      for (const [i, unit] of segments.entries()) {
        const alone = await pieceAlone(unit.files.at(-1) as string)
        // The first piece's count leaves out what no decoder can show (a mid-stream start).
        if (i > 0) expect(unit.expectedFrames).toBe(alone.frames)
        expect(unit.range?.start).toBeCloseTo(alone.minPts, 6)
        expect(unit.preRoll).toBe(i > 0 && alone.leading)
      }
    }
  )

  // Where the list cannot place the pieces, they are read: through ffmpeg's concat protocol, or
  // through stdin for a path holding the protocol's separator `|`, with the same result.
  it.each([
    ['work', 'concat:'],
    ['work|piped', 'pipe:0']
  ] as const)('reads the pieces in one ffprobe where they must be read (%s, input %s)', async (workName, input) => {
    const { segments } = await planRecorded('openGopTs', workName)
    const files = segments.map(u => u.files.at(-1) as string)
    const { runner: recording, probeArgs: probes } = countingRunner(runner)
    const pieces = await readPieces(recording, files, true, {})
    expect(probes).toHaveLength(1)
    expect(probes[0]?.filter(arg => arg.startsWith(input))).toHaveLength(1)
    for (const [i, piece] of pieces.entries()) {
      const alone = await pieceAlone(files[i] as string)
      expect(piece).toMatchObject({ frames: alone.frames, leading: alone.leading })
      expect(piece.minPts).toBeCloseTo(alone.minPts, 6)
      expect(piece.maxPts).toBeCloseTo(alone.maxPts, 6)
    }
  })
})
