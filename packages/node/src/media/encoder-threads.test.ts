import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { Profile } from '@ffmesh/protocol'
import { videoEncoderArgs } from './profile-args.js'

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
  const { stderr } = await exec('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'info', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=24:d=1', ...args, '-f', 'null', '-'])
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
