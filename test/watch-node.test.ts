import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobStatus, WatchStatus } from '@ffmesh/protocol'
import {
  ffmesh,
  ffmeshJson,
  makeDataDir,
  startNodeProcess,
  waitUntil,
  type NodeProcess
} from './helpers/node-harness.js'
import { paced } from './helpers/pace.js'
import { writeInPieces } from './helpers/watch-harness.js'

const run = promisify(execFile)
let root: string
beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-watch-')) })
afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

const done = (jobs: JobStatus[]): JobStatus[] => jobs.filter(j => j.state === 'done')

/** The node's debug line for a file whose content it took already (for this profile). */
const droppedAsTaken = (log: string, file: string): boolean =>
  log.split('\n').some(line => line.includes('content already taken') && line.includes(JSON.stringify(file)))

describe('watched folders on a real node', () => {
  it('converts 50 files dropped at once, each once, across a restart; never submits its own outputs', async () => {
    const watched = path.join(root, 'inbox')
    const out = path.join(watched, 'converted') // outputs inside the watched folder
    const staging = path.join(root, 'staging')
    await fs.mkdir(watched, { recursive: true })
    await fs.mkdir(staging)
    // 51 different images (one per frame of a test pattern): 50 moved in at once, one kept for later.
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=25',
      '-frames:v',
      '51',
      path.join(staging, 'img-%02d.png')
    ])
    const late = path.join(root, 'late.png')
    await fs.rename(path.join(staging, 'img-51.png'), late)
    const dataDir = await makeDataDir({
      slots: 2,
      extra: { watch: [{ path: watched, profile: 'webp', output: out, settleSeconds: 1 }] }
    })
    let node: NodeProcess = await startNodeProcess(dataDir)
    try {
      for (const name of await fs.readdir(staging)) await fs.rename(path.join(staging, name), path.join(watched, name))
      await waitUntil(
        async () => done(await ffmeshJson<JobStatus[]>(['status'], { dataDir })).length >= 10,
        'ten conversions',
        paced(120_000)
      )
      await node.stop('SIGTERM')
      node = await startNodeProcess(dataDir)
      const jobs = await waitUntil(async () => {
        const all = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
        return done(all).length >= 50 && all.every(j => j.state === 'done') ? all : null
      }, 'all fifty conversions', paced(240_000))
      expect(jobs).toHaveLength(50)
      expect(new Set(jobs.map(j => j.source)).size).toBe(50)
      expect((await fs.readdir(out)).filter(n => n.endsWith('.webp'))).toHaveLength(50)
      // The outputs landed in a watched folder and were never submitted themselves. An image dropped
      // after the last output was written settles after it (one settle time for all) and is taken
      // after it: once that image is converted, an output that was to be submitted has a job too.
      await fs.rename(late, path.join(watched, 'late.png'))
      const after = await waitUntil(async () => {
        const all = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
        return done(all).some(j => path.basename(j.source) === 'late.png') ? all : null
      }, 'the image dropped last to convert', paced(60_000))
      expect(after).toHaveLength(51)
      const realOut = await fs.realpath(out)
      expect(after.filter(j => j.source.startsWith(realOut + path.sep))).toEqual([])
      const watches = await ffmeshJson<WatchStatus[]>(['watch', 'list'], { dataDir })
      expect(watches[0]).toMatchObject({ path: watched, state: 'active' })
      const human = await ffmesh(['status'], { dataDir })
      expect(human.stdout).toContain(watched)
    } finally {
      await node.stop()
    }
  })

  it('submits a slowly written file once, after it settles; a copy of converted content is not converted again', async () => {
    const watched = path.join(root, 'slow-inbox')
    const out = path.join(root, 'slow-out')
    await fs.mkdir(watched)
    const source = path.join(root, 'clip.mkv')
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=25:duration=2',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      source
    ])
    const dataDir = await makeDataDir({
      slots: 1,
      // At debug the node logs a file whose content it took already: what the end of this test waits for.
      extra: { log: { level: 'debug' }, watch: [{ path: watched, profile: 'h264', output: out, settleSeconds: 2 }] }
    })
    const node = await startNodeProcess(dataDir)
    try {
      const bytes = await fs.readFile(source)
      const pieces = 5
      // A piece every 800 ms, inside the 2 s settle time. Checked is what was converted, not the
      // clock: a file taken before it settled is converted with part of its bytes, and again later.
      const stalls = await writeInPieces(
        path.join(watched, 'clip.mkv'),
        Array.from({ length: pieces }, (_, i) =>
          bytes.subarray(Math.floor((i * bytes.length) / pieces), Math.floor(((i + 1) * bytes.length) / pieces))),
        800,
        2000
      )
      const jobs = await waitUntil(
        async () => {
          const all = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
          return done(all).some(j => j.bytesIn === bytes.length) ? all : null
        },
        'the whole file to convert',
        paced(120_000)
      )
      // Only a writer stalled past the settle time lets the file settle mid-write, once per stall.
      expect(jobs.length).toBeLessThanOrEqual(1 + stalls)
      expect(jobs.find(j => j.bytesIn === bytes.length)?.error).toBeNull()
      const copy = path.join(watched, 'same-content-again.mkv')
      await fs.copyFile(source, copy)
      // The node says when it drops the copy; a job for it would show up instead.
      await waitUntil(async () => {
        if (droppedAsTaken(node.log(), copy)) return true
        return (await ffmeshJson<JobStatus[]>(['status'], { dataDir })).length > jobs.length
      }, 'the copy to be decided', paced(60_000))
      expect(await ffmeshJson<JobStatus[]>(['status'], { dataDir })).toHaveLength(jobs.length)
      expect(droppedAsTaken(node.log(), copy)).toBe(true)
    } finally {
      await node.stop()
    }
  })
})
