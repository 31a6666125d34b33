import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobStatus } from '@ffmesh/protocol'
import { multiTrackMkv, SAMPLE_FACTS } from './fixtures/media.js'
import {
  ffmesh,
  ffmeshJson,
  ffmpegProcessesFor,
  killOrphans,
  makeDataDir,
  startNodeProcess,
  waitForJobEnd,
  waitUntil,
  type NodeProcess
} from './helpers/node-harness.js'
import { paced } from './helpers/pace.js'

const run = promisify(execFile)

/** A profile slow enough that a test can act while units are still converting. */
const SLOW_PROFILE = {
  name: 'slow264',
  kind: 'video',
  container: 'mkv',
  video: { encoder: 'libx264', quality: 23, preset: 'veryslow', threads: 1 },
  audio: { encoder: 'aac', bitrateKbps: 96 },
  subtitles: 'copy'
}

async function probeStreams (
  file: string
): Promise<{
  video: number
  audio: number
  subtitle: number
  chapters: number
  title: string | undefined
  frames: number
}> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_packets',
    '-show_entries',
    'stream=codec_type,nb_read_packets:format_tags=title',
    '-show_chapters',
    '-of',
    'json',
    file
  ])
  const p = JSON.parse(stdout) as {
    streams: Array<{ codec_type: string; nb_read_packets?: string }>
    chapters: unknown[]
    format: { tags?: { title?: string } }
  }
  const count = (t: string): number => p.streams.filter(s => s.codec_type === t).length
  return {
    video: count('video'),
    audio: count('audio'),
    subtitle: count('subtitle'),
    chapters: p.chapters.length,
    title: p.format.tags?.title,
    frames: Number(p.streams.find(s => s.codec_type === 'video')?.nb_read_packets)
  }
}

async function makeLongSample (dir: string, seconds: number): Promise<string> {
  const file = path.join(dir, `long-${seconds}s.mp4`)
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=25:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '50',
    '-c:a',
    'aac',
    file
  ])
  return file
}

let media: string
beforeAll(async () => { media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-single-')) })
afterAll(async () => { await fs.rm(media, { recursive: true, force: true }) })

describe('one node, driven by the ffmesh CLI', () => {
  it('converts a multi-track MKV with every track, chapter and the title kept; status --json follows the contract', async () => {
    const dataDir = await makeDataDir({ slots: 2, segmentSeconds: 3 })
    const node = await startNodeProcess(dataDir)
    try {
      const source = await multiTrackMkv(media)
      const out = path.join(media, 'out-multi')
      const submitted = await ffmesh(['submit', source, '--profile', 'h264', '--out', out, '--wait', '--json'], {
        dataDir
      })
      expect(submitted.code, submitted.stderr).toBe(0)
      const { id } = JSON.parse(submitted.stdout) as { id: string }
      const status = await ffmeshJson<JobStatus>(['status', id], { dataDir })
      expect(status).toMatchObject({ id, state: 'done', profile: 'h264', source, error: null })
      expect(Object.keys(status)).toEqual(
        expect.arrayContaining(['id', 'state', 'profile', 'source', 'output', 'error', 'units'])
      )
      expect(status.units.length).toBeGreaterThan(2)
      for (const u of status.units) {
        expect(Object.keys(u)).toEqual(expect.arrayContaining(['index', 'state', 'worker', 'attempts']))
        expect(u).toMatchObject({ state: 'verified', attempts: 1, worker: status.owner })
      }
      expect(path.dirname(status.output as string)).toBe(out)
      const [src, dst] = await Promise.all([probeStreams(source), probeStreams(status.output as string)])
      expect(dst.frames).toBe(src.frames)
      expect(dst).toMatchObject({
        video: 1,
        audio: SAMPLE_FACTS.multiTrackMkv.audioTracks,
        subtitle: SAMPLE_FACTS.multiTrackMkv.subtitleTracks,
        chapters: SAMPLE_FACTS.multiTrackMkv.chapters,
        title: SAMPLE_FACTS.multiTrackMkv.title
      })
      const all = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
      expect(all.map(j => j.id)).toContain(id)
      // Never overwrite: the same job again lands beside the first output.
      const again = await ffmeshJson<{ id: string }>(['submit', source, '--profile', 'h264', '--out', out, '--wait'], {
        dataDir
      })
      const second = await ffmeshJson<JobStatus>(['status', again.id], { dataDir })
      expect(second.output).not.toBe(status.output)
      expect(await fs.stat(status.output as string).then(s => s.size > 0)).toBe(true)
    } finally {
      await node.stop()
    }
  })

  it('survives kill -9 mid-job: the job completes and verified units are not converted again', async () => {
    const dataDir = await makeDataDir({ slots: 1, segmentSeconds: 2, extra: { profiles: [SLOW_PROFILE] } })
    const source = await makeLongSample(media, 16)
    let node: NodeProcess = await startNodeProcess(dataDir)
    const { id } = await ffmeshJson<{ id: string }>(
      ['submit', source, '--profile', 'slow264', '--out', path.join(media, 'out-kill9')],
      { dataDir }
    )
    const before = await waitUntil(async () => {
      const s = await ffmeshJson<JobStatus>(['status', id], { dataDir })
      return s.units.filter(u => u.state === 'verified').length >= 2 ? s : null
    }, 'two verified units', paced(120_000))
    expect(before.state).toBe('running')
    const exited = await node.stop('SIGKILL')
    expect(exited.signal).toBe('SIGKILL')
    // The orphaned ffmpeg child of the killed node must not hold the unit or the disk.
    await killOrphans(dataDir)

    node = await startNodeProcess(dataDir)
    try {
      const after = await waitForJobEnd(dataDir, id)
      expect(after.state, JSON.stringify(after.error)).toBe('done')
      const verifiedBefore = before.units.filter(u => u.state === 'verified').map(u => u.index)
      for (const index of verifiedBefore) expect(after.units[index].attempts).toBe(1)
      expect((await probeStreams(after.output as string)).frames).toBe((await probeStreams(source)).frames)
    } finally {
      await node.stop()
    }
  })

  it('stops cleanly on SIGTERM mid-job (no ffmpeg left, no partial file) and resumes after restart', async () => {
    const dataDir = await makeDataDir({ slots: 1, segmentSeconds: 2, extra: { profiles: [SLOW_PROFILE] } })
    const source = await makeLongSample(media, 12)
    const out = path.join(media, 'out-sigterm')
    let node: NodeProcess = await startNodeProcess(dataDir)
    const { id } = await ffmeshJson<{ id: string }>(['submit', source, '--profile', 'slow264', '--out', out], {
      dataDir
    })
    await waitUntil(
      async () =>
        (await ffmpegProcessesFor(dataDir)).length > 0 &&
        (await ffmeshJson<JobStatus>(['status', id], { dataDir })).units.some(u => u.state === 'converting'),
      'a unit converting',
      paced(60_000)
    )
    const t0 = Date.now()
    const exited = await node.stop('SIGTERM')
    const took = Date.now() - t0
    expect(exited.code).toBe(0)
    expect(took).toBeLessThan(paced(10_000))
    expect(await ffmpegProcessesFor(dataDir)).toEqual([])
    expect(await fs.readdir(path.join(dataDir, 'tmp')).catch(() => [])).toEqual([])
    expect(
      (await fs.readdir(out).catch(() => [] as string[])).filter(n => !n.startsWith('.ffmesh-write-check'))
    ).toEqual([])

    node = await startNodeProcess(dataDir)
    try {
      const after = await waitForJobEnd(dataDir, id)
      expect(after.state, JSON.stringify(after.error)).toBe('done')
    } finally {
      await node.stop()
    }
  })
})
