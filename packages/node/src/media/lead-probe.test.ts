import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ffmpeg, makeSample, type SampleKind } from '../../../../test/fixtures/media.js'
import { createLogger } from '../logger.js'
import { leadFromPackets, readLead, type ListedPacket } from './lead-probe.js'
import { mainVideo, readProbe } from './probe.js'
import { createFfmpegRunner } from './runner.js'

const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
const h264 = { index: 0, codec_name: 'h264', extradata_size: 40 }
const packet = (pts: number, flags = '__'): ListedPacket => ({ stream_index: 0, pts_time: pts.toFixed(6), flags })
/** A closed GOP in decode order: I, P, then the B-frames shown between them. */
const closedGop = [packet(0.083, 'K_'), packet(0.25), packet(0.125), packet(0.167), packet(0.208)]

describe('leadFromPackets', () => {
  it('settles a closed-GOP start in MP4 or Matroska without a decode: every frame shows, the keyframe first', () => {
    for (const format of ['mov,mp4,m4a,3gp,3g2,mj2', 'matroska,webm']) {
      expect(leadFromPackets(format, h264, closedGop)).toEqual({
        packets: 5,
        undecodable: 0,
        missingPts: false,
        firstFrameTime: 0.083
      })
    }
  })

  it.each([
    ['a transport stream, which may start before its parameter sets', 'mpegts', h264, closedGop],
    ['an AVI, whose packets may lack presentation times', 'avi', h264, closedGop],
    ['a codec with hidden frames', 'matroska,webm', { ...h264, codec_name: 'vp8' }, closedGop],
    ['parameter sets only in the packets', 'matroska,webm', { ...h264, extradata_size: 0 }, closedGop],
    ['a first packet that is no keyframe', 'matroska,webm', h264, [packet(0), packet(0.042, 'K_')]],
    ['open-GOP leading frames, shown before the keyframe', 'matroska,webm', h264, [packet(0.5, 'K_'), packet(0.4)]],
    ['an edit list that starts mid-GOP', 'mov,mp4,m4a,3gp,3g2,mj2', h264, [packet(-1, 'KD'), packet(-0.9, '_D'), packet(0)]],
    ['a packet without a time', 'matroska,webm', h264, [packet(0, 'K_'), { stream_index: 0, flags: '__' }]],
    ['no video packet read', 'matroska,webm', h264, [{ ...packet(0, 'K_'), stream_index: 1 }]]
  ])('leaves %s to the decode', (_name, format, stream, packets) => {
    expect(leadFromPackets(format, stream, packets)).toBeNull()
  })
})

describe('the lead from packets, against the decode, on real files', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffmesh-lead-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  const both = async (file: string): Promise<{ listed: unknown, decoded: unknown }> => {
    const probe = await readProbe(runner, file, { leadPackets: true })
    const video = mainVideo(probe)
    if (video == null) throw new Error(`${file} has no video`)
    const listed = leadFromPackets(probe.format?.format_name ?? '', video, probe.packets ?? [])
    return { listed, decoded: await readLead(runner, file, video.index, {}) }
  }

  it.each<[SampleKind]>([['bframesMp4'], ['multiTrackMkv'], ['openGopH264Mkv'], ['vfrMp4']])(
    'says what the decode says of %s',
    async kind => {
      const { listed, decoded } = await both(await makeSample(kind, dir))
      expect(listed).not.toBeNull()
      expect(listed).toEqual(decoded)
    }
  )

  it.each<[SampleKind]>([['openGopTs'], ['midGopTs']])('leaves %s, a transport stream, to the decode', async kind => {
    expect((await both(await makeSample(kind, dir))).listed).toBeNull()
  })

  it('leaves an MP4 cut mid-GOP by stream copy (an edit list) to the decode, which drops frames there', async () => {
    const cut = join(dir, 'cut-mid-gop.mp4')
    await ffmpeg(['-ss', '1.3', '-i', await makeSample('bframesMp4', dir), '-c', 'copy', cut])
    const { listed, decoded } = await both(cut)
    expect(listed).toBeNull()
    expect(decoded).toMatchObject({ undecodable: expect.any(Number) })
    expect((decoded as { undecodable: number }).undecodable).toBeGreaterThan(0)
  })
})
