import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeOldFormat } from '../../../../test/fixtures/old-formats.js'
import { makeRecording } from '../../../../test/fixtures/recordings.js'
import { countingRunner } from '../../../../test/helpers/counting-runner.js'
import { fastProfile } from '../../../../test/helpers/kept-check.js'
import { createLogger } from '../logger.js'
import { planSource } from './plan.js'
import { probeSource, type MediaInfo } from './probe.js'
import { createFfmpegRunner } from './runner.js'
import { expectedDuration, verifyOutput } from './verify.js'

const exec = promisify(execFile)
const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
const h264 = fastProfile('h264')

/** A plain conversion of picture and sound, with extra output options (a shortened track, a dropped picture). */
async function plain (source: string, out: string, extra: string[]): Promise<string> {
  await exec('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-i',
    source,
    '-map',
    '0:V',
    '-map',
    '0:a',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-fps_mode',
    'passthrough',
    '-c:a',
    'aac',
    ...extra,
    out
  ])
  return out
}

describe('the output check, against what the source holds', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffm-md-verify-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  async function planned (source: string, name: string): Promise<MediaInfo> {
    const workDir = join(dir, `plan-${name}`)
    await mkdir(workDir)
    return (
      await planSource(runner, {
        source,
        info: await probeSource(runner, source),
        profile: h264,
        segmentSeconds: 2,
        workDir
      })
    ).info as MediaInfo
  }

  it('holds a recording cut short to what it holds, as strictly as a whole file: a second of sound missing fails', async () => {
    const source = await makeRecording('cutShortMkv', dir)
    const info = await planned(source, 'cut-short')
    expect(info.durationSec).toBeGreaterThan(9)
    const held = expectedDuration(info, h264)
    expect(held).toBeGreaterThan(4)
    expect(held).toBeLessThan(info.durationSec - 3)
    await expect(
      verifyOutput(runner, { info, profile: h264, file: await plain(source, join(dir, 'whole.mkv'), []) })
    ).resolves.toBeUndefined()
    const short = await plain(source, join(dir, 'short-audio.mkv'), ['-af', `atrim=end=${(held - 1).toFixed(3)}`])
    await expect(verifyOutput(runner, { info, profile: h264, file: short })).rejects.toMatchObject({
      code: 'VERIFY_FAILED'
    })
    // Against the header, the complete output would have failed: that was the bug.
    await expect(
      verifyOutput(runner, { info: { ...info, streamEnds: undefined }, profile: h264, file: join(dir, 'whole.mkv') })
    ).rejects.toMatchObject({ code: 'VERIFY_FAILED' })
  })

  it('fails an output that lost the source\'s cover picture', async () => {
    const source = await makeOldFormat('coverMp4', dir)
    const info = await planned(source, 'cover')
    const cover = info.streams.find(s => s.attachedPic)?.index
    const withCover = await plain(source, join(dir, 'out-with-cover.mp4'), [
      '-map',
      `0:${String(cover)}`,
      '-c:v:1',
      'copy',
      '-disposition:v:1',
      'attached_pic',
      '-map_chapters',
      '0'
    ])
    const mp4 = fastProfile('h264', p => { p.container = 'mp4' })
    await expect(verifyOutput(runner, { info, profile: mp4, file: withCover })).resolves.toBeUndefined()
    const without = await plain(source, join(dir, 'out-without-cover.mp4'), ['-map_chapters', '0'])
    await expect(verifyOutput(runner, { info, profile: mp4, file: without })).rejects.toMatchObject({
      code: 'VERIFY_FAILED'
    })
  })

  it('checks a Matroska output from its walk alone, and asks ffprobe about one with a title', async () => {
    const source = await makeRecording('cutShortMkv', dir)
    const info = await planned(source, 'walk-only')
    const whole = await plain(source, join(dir, 'walk-only.mkv'), [])
    const counted = countingRunner(runner)
    await expect(verifyOutput(counted.runner, { info, profile: h264, file: whole })).resolves.toBeUndefined()
    expect([counted.probes(), counted.runs()]).toEqual([0, 0])
    // The walk still fails what is wrong: a second of sound missing.
    const short = await plain(source, join(dir, 'walk-only-short.mkv'), ['-af', `atrim=end=${(expectedDuration(info, h264) - 1).toFixed(3)}`])
    await expect(verifyOutput(counted.runner, { info, profile: h264, file: short })).rejects.toMatchObject({
      code: 'VERIFY_FAILED'
    })
    const titled = await plain(source, join(dir, 'walk-titled.mkv'), ['-metadata', 'title=A film'])
    await expect(verifyOutput(counted.runner, { info, profile: h264, file: titled })).resolves.toBeUndefined()
    expect(counted.probes()).toBe(1)
  })
})
