import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMediaToolkit, type MediaInfo } from '../packages/node/src/media/index.js'
import { startNode } from '../packages/node/src/node.js'
import { makeDataDir, waitUntil } from './helpers/node-harness.js'
import { paced } from './helpers/pace.js'

/**
 * A scan queues without probing, and the owner probes and plans a few queued jobs at a time,
 * oldest first. The probe here is a stand-in that counts how many run at once (real ffprobe
 * costs 0.15-0.5 s a file here, which is why a scan must not wait for it); it finds HEVC in
 * Matroska, so every job ends `skipped` with ALREADY_TARGET right after its probe. Each probe
 * takes PROBE_MS (the pause is the scenario: probes that overlap are counted) once the scan has
 * returned: none can end before, so a scan that waited for a probe shows, however busy the host.
 */
const FILES = 40
const PROBE_MS = 100

let root: string
beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-lib-queue-')) })
afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

const hevc: MediaInfo = {
  kind: 'video',
  formatName: 'matroska,webm',
  durationSec: 1,
  startTime: 0,
  videoFrames: null,
  videoCodec: 'hevc',
  audioTracks: 0,
  subtitleTracks: 0,
  chapters: 0,
  title: null,
  streams: [{ index: 0, type: 'video', codec: 'hevc', language: null, title: null, attachedPic: false }]
}

describe('a scan of many files', () => {
  it('queues them all at once, largest first, and probes at most jobs.maxPlanning at a time, oldest first', async () => {
    const lib = path.join(root, 'lib')
    for (let i = 0; i < FILES; i++) {
      await fs.mkdir(path.join(lib, `d${i % 4}`), { recursive: true })
      // Sizes grow with the name, so the largest-first order is the reverse of the tree's.
      await fs.writeFile(path.join(lib, `d${i % 4}`, `f${String(i).padStart(2, '0')}.mkv`), 'x'.repeat(i + 1))
    }
    let running = 0
    let peak = 0
    let ended = 0
    const probed: string[] = []
    let scanReturned = (): void => {}
    const gate = new Promise<void>(resolve => { scanReturned = resolve })
    const dataDir = await makeDataDir({ slots: 2, extra: { jobs: { maxPlanning: 2 } } })
    const node = await startNode({
      dataDir,
      logger: pino({ level: 'silent' }),
      media: runner => ({
        ...createMediaToolkit(runner),
        async probeSource (file) {
          running++
          peak = Math.max(peak, running)
          await gate
          await sleep(PROBE_MS)
          running--
          ended++
          probed.push(file)
          return structuredClone(hevc)
        }
      })
    })
    try {
      // A scan that waited for its probes would wait for ever: past this limit they go on, and it fails below.
      const limit = setTimeout(() => { scanReturned() }, paced(10_000)).unref()
      const report = await node.api.scan({
        path: lib,
        profiles: { video: 'h265' },
        output: path.join(root, 'out'),
        replace: false,
        include: [],
        exclude: [],
        rules: { minSize: 0, minBitrateKbps: 0, minSavingPercent: 0, keepLarger: false },
        dryRun: false
      })
      expect(report.submitted).toHaveLength(FILES)
      // Queued before any probe ended: the scan did not wait for the probes.
      expect(ended).toBe(0)
      clearTimeout(limit)
      scanReturned()
      const jobs = await waitUntil(async () => {
        const all = node.api.listJobs()
        return all.every(j => j.state === 'skipped') ? all : null
      }, 'every job probed and skipped', paced(60_000))
      expect(jobs.map(j => j.reason?.code)).toEqual(Array(FILES).fill('ALREADY_TARGET'))
      expect(peak).toBeLessThanOrEqual(2)
      expect(peak).toBeGreaterThanOrEqual(1)
      // Queued largest first, and probed oldest first: in the order the scan queued the files.
      const sizes = await Promise.all(report.submitted.map(async s => (await fs.stat(s.path)).size))
      expect(sizes).toEqual([...sizes].sort((a, b) => b - a))
      expect(path.basename(report.submitted[0]?.path ?? '')).toBe(`f${FILES - 1}.mkv`)
      expect(probed.slice(0, 4)).toEqual(report.submitted.slice(0, 4).map(s => s.path))
      // A page of the newest few, and the counts, without every job.
      expect(node.api.listJobs({ state: undefined, order: 'newest', offset: 0, limit: 3 }).map(j => j.id)).toEqual(
        report.submitted
          .slice(-3)
          .reverse()
          .map(s => s.jobId)
      )
      expect(node.api.jobSummary(report.batch)).toMatchObject({ total: FILES, byState: { skipped: FILES, queued: 0 } })
    } finally {
      scanReturned()
      await node.stop()
    }
  })
})
