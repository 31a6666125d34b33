import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ffmpeg } from '../../../../test/fixtures/media.js'
import { countingRunner } from '../../../../test/helpers/counting-runner.js'
import { createLogger } from '../logger.js'
import { tallyMatroska } from './matroska-tally.js'
import { outputPackets } from './output-packets.js'
import { scanPackets, type StreamSpan } from './packet-list.js'
import { readProbe, type ProbeResult } from './probe.js'
import { createFfmpegRunner } from './runner.js'

const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
let dir: string

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffm-output-packets-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

/** Picture and sound for 3 s as a worker's ffmpeg writes them, with `audio` as the sound's encoder arguments. */
async function output (name: string, audio: string[], rate = '24'): Promise<string> {
  const file = join(dir, name)
  await ffmpeg(['-f', 'lavfi', '-i', `testsrc2=s=160x90:r=${rate}:d=3`, '-f', 'lavfi', '-i',
    'sine=f=440:sample_rate=44100:d=3.2', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', ...audio, file])
  return file
}

async function both (file: string): Promise<{ probe: ProbeResult, scanned: Map<number, StreamSpan> }> {
  const probe = await readProbe(runner, file)
  const scanned = (await scanPackets(runner, file, [0, 1], join(dir, 'list.crc'))).streams
  return { probe, scanned }
}

describe("an output's packets for the final check", () => {
  it('walks a Matroska output in this process and finds what ffmpeg lists: counts, and ends within a millisecond', async () => {
    for (const [name, audio] of [
      ['aac.mkv', ['-c:a', 'aac']],
      ['opus.mkv', ['-c:a', 'libopus']],
      ['mp3.mkv', ['-c:a', 'libmp3lame']]
    ] as const) {
      const file = await output(name, [...audio], name === 'opus.mkv' ? '30000/1001' : '24')
      const { probe, scanned } = await both(file)
      const counted = countingRunner(runner)
      const walked = await outputPackets(counted.runner, file, probe, [0, 1], await tallyMatroska(file))
      expect(counted.runs(), name).toBe(0)
      for (const index of [0, 1]) {
        const want = scanned.get(index) as StreamSpan
        const got = walked.get(index) as StreamSpan
        expect(got.packets, `${name} stream ${index}`).toBe(want.packets)
        expect(Math.abs((got.start as number) - (want.start as number)), `${name} stream ${index} start`).toBeLessThan(0.001)
        expect(Math.abs((got.end as number) - (want.end as number)), `${name} stream ${index} end`).toBeLessThan(0.001)
      }
    }
  })

  it('asks ffmpeg where the walk could only estimate an end (a FLAC last frame is shorter), and for what is not Matroska', async () => {
    for (const [name, audio] of [['flac.mkv', ['-c:a', 'flac']], ['aac.mp4', ['-c:a', 'aac']]] as const) {
      const file = await output(name, [...audio])
      const { probe, scanned } = await both(file)
      const counted = countingRunner(runner)
      expect(await outputPackets(counted.runner, file, probe, [0, 1], await tallyMatroska(file))).toEqual(scanned)
      expect(counted.runs(), name).toBe(1)
    }
  })

  it("asks ffmpeg when the tracks are not ffprobe's streams one for one", async () => {
    const file = await output('mismatch.mkv', ['-c:a', 'aac'])
    const { probe, scanned } = await both(file)
    const swapped = { ...probe, streams: (probe.streams ?? []).map(s => ({ ...s, codec_type: s.codec_type === 'video' ? 'audio' : 'video' })) }
    const counted = countingRunner(runner)
    expect(await outputPackets(counted.runner, file, swapped, [0, 1], await tallyMatroska(file))).toEqual(scanned)
    expect(counted.runs()).toBe(1)
  })
})
