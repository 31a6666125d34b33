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

const run = promisify(execFile)
let root: string
beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-watch-')) })
afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

const done = (jobs: JobStatus[]): JobStatus[] => jobs.filter(j => j.state === 'done')

describe('watched folders on a real node', () => {
  it('converts 50 files dropped at once, each once, across a restart; never submits its own outputs', async () => {
    const watched = path.join(root, 'inbox')
    const out = path.join(watched, 'converted') // outputs inside the watched folder
    const staging = path.join(root, 'staging')
    await fs.mkdir(watched, { recursive: true })
    await fs.mkdir(staging)
    // 50 different images (one per frame of a test pattern), moved in at once.
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=25',
      '-frames:v',
      '50',
      path.join(staging, 'img-%02d.png')
    ])
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
      // The outputs landed in a watched folder and were never submitted themselves.
      await new Promise(resolve => setTimeout(resolve, 3000))
      expect(await ffmeshJson<JobStatus[]>(['status'], { dataDir })).toHaveLength(50)
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
      extra: { watch: [{ path: watched, profile: 'h264', output: out, settleSeconds: 2 }] }
    })
    const node = await startNodeProcess(dataDir)
    try {
      const bytes = await fs.readFile(source)
      const target = await fs.open(path.join(watched, 'clip.mkv'), 'w')
      const pieces = 5
      for (let i = 0; i < pieces; i++) {
        await target.write(
          bytes.subarray(Math.floor((i * bytes.length) / pieces), Math.floor(((i + 1) * bytes.length) / pieces))
        )
        await new Promise(resolve => setTimeout(resolve, 800))
      }
      await target.close()
      const [job] = await waitUntil(
        async () => {
          const all = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
          return done(all).length === 1 ? all : null
        },
        'the settled file to convert',
        paced(120_000)
      )
      expect(job.error).toBeNull()
      await fs.copyFile(source, path.join(watched, 'same-content-again.mkv'))
      await new Promise(resolve => setTimeout(resolve, 5000))
      expect(await ffmeshJson<JobStatus[]>(['status'], { dataDir })).toHaveLength(1)
    } finally {
      await node.stop()
    }
  })
})
