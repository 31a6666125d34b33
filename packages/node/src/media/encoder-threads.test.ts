import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, type Profile, type UnitSpec } from '@ffmesh/protocol'
import { createLogger } from '../logger.js'
import { convertUnit } from './convert.js'
import { videoEncoderArgs } from './profile-args.js'
import { createFfmpegRunner } from './runner.js'

const exec = promisify(execFile)
type VideoSettings = NonNullable<Profile['video']>
const X265: VideoSettings = { encoder: 'libx265', quality: 28, preset: 'ultrafast' }
const SVT: VideoSettings = { encoder: 'libsvtav1', quality: 35, preset: '12' }

/**
 * What the encoder itself reports about its threads for one second of video encoded with the
 * node's arguments (x265's log level raised so it says so).
 */
async function encoderReport (video: VideoSettings, threads: number): Promise<string> {
  const args = videoEncoderArgs(video, threads).map(a => a.replace('log-level=error', 'log-level=info'))
  const { stderr } = await exec('ffmpeg', [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=320x240:r=24:d=1',
    ...args,
    '-f',
    'null',
    '-'
  ])
  return stderr
}

describe('worker.threads reaches encoders that ignore ffmpeg -threads', () => {
  it('x265 at 1 thread runs without a pool of its own; above 1, with a pool of that size', async () => {
    const one = await encoderReport(X265, 1)
    expect(one).toMatch(/frame threads \/ pool features\s*:\s*1 \/ none/)
    expect(one).not.toMatch(/Thread pool created/)
    expect(await encoderReport(X265, 2)).toMatch(/Thread pool created using 2 threads/)
  })

  it('SVT-AV1 at 1 thread sees one logical processor', async () => {
    expect(await encoderReport(SVT, 1)).toMatch(/logical cores available: 1\b/)
  })

  it('with no limit set, the encoders size their pools themselves', () => {
    expect(videoEncoderArgs(X265, 0)).toContain('log-level=error')
    expect(videoEncoderArgs(SVT, 0).join(' ')).not.toMatch(/svtav1-params|-threads/)
    expect(videoEncoderArgs({ encoder: 'libx264', quality: 23 }, 3).slice(-2)).toEqual(['-threads', '3'])
  })
})

describe('worker.threads holds the decoder too', () => {
  const h264 = DEFAULT_PROFILES.find(p => p.name === 'h264') as Profile
  let dir: string
  let source: string
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-threads-'))
    source = path.join(dir, 'source.mp4')
    await exec('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=640x360:r=24:d=4',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      source
    ])
  })
  afterAll(async () => { await fs.rm(dir, { recursive: true, force: true }) })

  /**
   * The most threads the unit's ffmpeg had at once, read from /proc every 10 ms while the node's
   * own convertUnit runs it (through a wrapper that records ffmpeg's pid and execs it).
   */
  async function peakThreads (threads: number | undefined): Promise<number> {
    const pidFile = path.join(dir, `pid-${String(threads)}`)
    const wrapper = path.join(dir, `ffmpeg-${String(threads)}`)
    await fs.writeFile(wrapper, `#!/bin/sh\necho $$ > '${pidFile}'\nexec ffmpeg "$@"\n`, { mode: 0o755 })
    const runner = createFfmpegRunner({ ffmpegPath: wrapper, logger: createLogger({ level: 'silent' }) })
    const spec: UnitSpec = {
      jobId: '01JD4Y5N3ZQ7X8W9V0T1S2R3P4',
      index: 0,
      kind: 'segment',
      inputs: [{ hash: 'ab'.repeat(64), size: 1 }],
      preRoll: false,
      range: { start: 0, end: null },
      durationSec: 4,
      frames: 96,
      inputFormat: 'source',
      profile: h264
    }
    let peak = 0
    const poll = setInterval(() => {
      void fs.readFile(pidFile, 'utf8')
        .then(async pid => await fs.readdir(`/proc/${pid.trim()}/task`))
        .then(tasks => { peak = Math.max(peak, tasks.length) }, () => { /* not started yet, or already gone */ })
    }, 10)
    try {
      const out = await convertUnit(
        runner,
        { spec, inputs: [source], outFile: path.join(dir, `out-${String(threads)}.mkv`), threads },
        { probeOutput: false }
      )
      expect(out.frames).toBe(96)
    } finally {
      clearInterval(poll)
    }
    return peak
  }

  it.skipIf(os.availableParallelism() < 2)(
    "at worker.threads 1 a segment's ffmpeg runs in one thread, decoder included; unlimited, it runs several",
    async () => {
      expect(await peakThreads(undefined)).toBeGreaterThan(1)
      expect(await peakThreads(1)).toBe(1)
    }
  )
})
