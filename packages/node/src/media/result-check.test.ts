import { copyFile, mkdtemp, open, rm, stat, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ffmpeg } from '../../../../test/fixtures/media.js'
import { createLogger } from '../logger.js'
import { MatroskaDamage, tallyMatroska } from './matroska-tally.js'
import { measureOutput } from './probe.js'
import { measureResult } from './result-check.js'
import { createFfmpegRunner } from './runner.js'

const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
let dir: string
let segment: string
let audio: string

/** A unit's output as a worker writes it: Matroska from ffmpeg, source times kept. */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ffm-perf-result-check-'))
  segment = join(dir, 'segment.mkv')
  audio = join(dir, 'audio.mka')
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=3', '-output_ts_offset', '4', '-c:v', 'libx264',
    '-preset', 'ultrafast', '-g', '12', '-f', 'matroska', segment])
  await ffmpeg(['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000:d=3', '-c:a', 'aac', '-b:a', '64k', '-f',
    'matroska', audio])
})

afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

/** A copy of `file` with one byte changed at `at` (a fraction of its length). */
async function damaged (file: string, name: string, at: number): Promise<string> {
  const copy = join(dir, name)
  await copyFile(file, copy)
  const { size } = await stat(copy)
  const handle = await open(copy, 'r+')
  const position = Math.floor(size * at)
  const byte = Buffer.alloc(1)
  await handle.read(byte, 0, 1, position)
  byte[0] = (byte[0] as number) ^ 0x55
  await handle.write(byte, 0, 1, position)
  await handle.close()
  return copy
}

describe('a unit result measured without ffprobe', () => {
  it('counts what ffprobe counts: a segment\'s frames, start and duration, an audio unit\'s packets', async () => {
    const probed = await measureOutput(runner, segment, 'segment')
    expect(probed.frames).toBe(72)
    expect(await measureResult(runner, segment, 'segment')).toEqual(probed)
    const probedAudio = await measureOutput(runner, audio, 'audio')
    expect(await measureResult(runner, audio, 'audio')).toEqual(probedAudio)
  })

  it("counts a whole unit's Matroska as ffprobe does: its video frames beside its sound, and its duration", async () => {
    const whole = join(dir, 'whole.mkv')
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=2', '-f', 'lavfi', '-i', 'sine=d=2.5',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', whole])
    const probed = await measureOutput(runner, whole, 'whole')
    expect(probed.frames).toBe(48)
    expect(await measureResult(runner, whole, 'whole')).toEqual(probed)
  })

  it('refuses a result cut short, which ffprobe counts whole when only the index is missing', async () => {
    const cut = join(dir, 'cut.mkv')
    await copyFile(segment, cut)
    // The last bytes are the cues (the index): every frame is still there for ffprobe.
    await truncate(cut, (await stat(cut)).size - 40)
    expect((await measureOutput(runner, cut, 'segment')).frames).toBe(72)
    await expect(measureResult(runner, cut, 'segment')).rejects.toBeInstanceOf(MatroskaDamage)
    const half = join(dir, 'half.mkv')
    await copyFile(segment, half)
    await truncate(half, Math.floor((await stat(half)).size / 2))
    await expect(measureResult(runner, half, 'segment')).rejects.toBeInstanceOf(MatroskaDamage)
  })

  it('refuses a changed byte inside a frame (each cluster\'s CRC-32)', async () => {
    const flipped = await damaged(segment, 'flipped.mkv', 0.5)
    await expect(tallyMatroska(flipped)).rejects.toThrow(/CRC-32/)
    await expect(measureResult(runner, flipped, 'segment')).rejects.toBeInstanceOf(MatroskaDamage)
  })

  it('leaves what is not Matroska to ffprobe', async () => {
    const ts = join(dir, 'segment.ts')
    await ffmpeg(['-i', segment, '-c', 'copy', '-f', 'mpegts', ts])
    expect(await tallyMatroska(ts)).toBeNull()
    expect((await measureResult(runner, ts, 'segment')).frames).toBe(72)
  })
})
