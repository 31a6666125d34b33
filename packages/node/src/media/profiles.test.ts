import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, type Profile } from '@ffmesh/protocol'
import { makeSample, type SampleKind } from '../../../../test/fixtures/media.js'
import { createLogger } from '../logger.js'
import { convertLocally } from '../../../../test/helpers/local-pipeline.js'
import { countFrames, probeSource } from './probe.js'
import { createFfmpegRunner } from './runner.js'
import { verifyOutput } from './verify.js'

const exec = promisify(execFile)
const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })

/** Fast presets of the same encoders, so the suite stays quick on 2 shared cores. */
const FAST_PRESETS: Record<string, string> = {
  libx264: 'ultrafast',
  libx265: 'ultrafast',
  libsvtav1: '12',
  'libvpx-vp9': '8',
  'libaom-av1': '8'
}

function fastProfile (name: string): Profile {
  const found = DEFAULT_PROFILES.find(p => p.name === name)
  if (found == null) throw new Error(`no default profile ${name}`)
  const p = structuredClone(found) as Profile
  if (p.video != null) p.video.preset = FAST_PRESETS[p.video.encoder]
  return p
}

async function streamCodecs (file: string): Promise<string[]> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name',
    '-of',
    'csv=p=0',
    file
  ])
  return stdout.split('\n').map(l => l.replace(/,/g, '').trim()).filter(l => l !== '')
}

describe('every default profile through plan, convert, assemble and verify', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffmesh-profiles-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  async function convert (
    sample: SampleKind,
    name: string,
    segmentSeconds: number
  ): Promise<{ out: string; units: string[] }> {
    const source = await makeSample(sample, dir)
    const profile = fastProfile(name)
    const out = join(dir, `${sample}-${name}-${segmentSeconds}.${profile.container}`)
    const result = await convertLocally(runner, {
      source,
      profile,
      segmentSeconds,
      workDir: join(dir, `work-${name}-${segmentSeconds}`),
      outFile: out,
      parallel: 2
    })
    return { out, units: result.units.map(u => u.kind) }
  }

  it.each([
    ['h264', ['h264', 'aac']], ['h265', ['hevc', 'aac']], ['av1', ['av1', 'opus']], ['vp9', ['vp9', 'opus']]
  ])('%s converts a short video in segments with every frame', async (name, codecs) => {
    const { out, units } = await convert('shortClip', name, 1)
    expect(units).toEqual(['segment', 'segment', 'segment', 'audio'])
    expect(await streamCodecs(out)).toEqual(codecs)
    const source = await makeSample('shortClip', dir)
    expect((await countFrames(runner, out)).frames).toBe((await countFrames(runner, source)).frames)
  })

  it('h264 converts a short video as one whole unit', async () => {
    const { out, units } = await convert('shortClip', 'h264', 10)
    expect(units).toEqual(['whole'])
    expect(await streamCodecs(out)).toEqual(['h264', 'aac'])
    expect((await countFrames(runner, out)).frames).toBe(75)
  })

  it.each([
    ['opus', 'opus'], ['aac', 'aac'], ['mp3', 'mp3'], ['flac', 'flac']
  ])('%s converts an audio file like a direct ffmpeg run', async (name, codec) => {
    const { out, units } = await convert('audioOnly', name, 1)
    expect(units).toEqual(['whole'])
    expect(await streamCodecs(out)).toEqual([codec])
    const profile = fastProfile(name)
    const direct = join(dir, `direct-${name}.${profile.container}`)
    const audio = profile.audio as { encoder: string, bitrateKbps?: number }
    await exec('ffmpeg', ['-v', 'error', '-y', '-i', await makeSample('audioOnly', dir), '-c:a', audio.encoder,
      ...(audio.bitrateKbps != null ? ['-b:a', `${audio.bitrateKbps}k`] : []), direct])
    const [ours, theirs] = [await countFrames(runner, out), await countFrames(runner, direct)]
    expect(ours.frames).toBe(theirs.frames)
    expect(Math.abs(ours.durationSec - theirs.durationSec)).toBeLessThan(0.001)
  })

  it('webp converts an image', async () => {
    const { out, units } = await convert('image', 'webp', 1)
    expect(units).toEqual(['whole'])
    expect(await streamCodecs(out)).toEqual(['webp'])
    const { stdout } = await exec('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=width,height',
      '-of',
      'csv=p=0',
      out
    ])
    expect(stdout.trim()).toBe('320,240')
  })

  it('reads and writes names that look like options, protocols or quotes as plain files', async () => {
    const source = join(dir, "-i concat:x|y 'quoted'.mp4")
    await copyFile(await makeSample('shortClip', dir), source)
    const out = join(dir, "-y 'out' pipe:1.mkv")
    const { units } = await convertLocally(runner, {
      source,
      profile: fastProfile('h264'),
      segmentSeconds: 1,
      workDir: join(dir, "work 'odd' -x"),
      outFile: out
    })
    expect(units.filter(u => u.kind === 'segment').length).toBe(3)
    expect((await countFrames(runner, out)).frames).toBe(75)
  })

  it('verification fails when a frame or a track is missing', async () => {
    const source = await makeSample('shortClip', dir)
    const { out } = await convert('shortClip', 'h264', 10)
    // The frame count a plan would have added to the probe's description.
    const info = { ...await probeSource(runner, source), videoFrames: (await countFrames(runner, source)).frames }
    const profile = fastProfile('h264')
    await expect(verifyOutput(runner, { info, profile, file: out })).resolves.toBeUndefined()
    await expect(
      verifyOutput(runner, { info: { ...info, videoFrames: (info.videoFrames ?? 0) + 1 }, profile, file: out })
    ).rejects.toMatchObject({ code: 'VERIFY_FAILED' })
    await expect(verifyOutput(runner, { info: { ...info, audioTracks: 2 }, profile, file: out }))
      .rejects.toMatchObject({ code: 'VERIFY_FAILED' })
    await expect(verifyOutput(runner, { info: { ...info, durationSec: info.durationSec + 1 }, profile, file: out }))
      .rejects.toMatchObject({ code: 'VERIFY_FAILED' })
  })
})
