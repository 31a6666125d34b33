import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestNodes, stopTestNodes, waitForJob, waitForMesh, type TestNode } from './helpers/in-process.js'

const run = promisify(execFile)
let media: string
let nodes: TestNode[] = []

beforeAll(async () => { media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-perf-cut-')) })
afterEach(async () => { await stopTestNodes(nodes); nodes = [] })
afterAll(async () => { await fs.rm(media, { recursive: true, force: true }) })

/** Picture and sound, a keyframe every second: the cut could split it anywhere. */
async function sample (seconds: number, name: string): Promise<string> {
  const file = path.join(media, name)
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
    `testsrc2=size=320x240:rate=25:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', file])
  return file
}

/** Two nodes of one slot each, planning with jobs.cut auto; returns the first, which owns the jobs. */
async function twoNodes (segmentSeconds: number): Promise<TestNode> {
  nodes = await startTestNodes(['a', 'b'].map(name => ({ name, slots: 1, segmentSeconds, cut: 'auto' as const })))
  await waitForMesh(nodes)
  return nodes[0] as TestNode
}

describe('the planner cuts from the work and the mesh (jobs.cut auto)', () => {
  it('spreads a batch of short files over two nodes file by file: each file one unit, both nodes busy', async () => {
    // Segments of 2 s would cut each 8 s file into four (jobs.cut segments does).
    const a = await twoNodes(2)
    const sources = await Promise.all([0, 1, 2, 3].map(async i => await sample(8, `clip-${i}.mp4`)))
    const ids = []
    for (const source of sources) {
      ids.push((await a.node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'batch-out') })).id)
    }
    const jobs = await Promise.all(ids.map(async id => await waitForJob(a, id)))
    for (const job of jobs) {
      expect(job.state, JSON.stringify(job.error)).toBe('done')
      expect(job.units.map(u => u.kind)).toEqual(['whole'])
    }
    const workers = new Set(jobs.map(j => j.units[0]?.worker))
    expect(workers).toEqual(new Set(nodes.map(n => n.node.peerId)))
  })

  it('still cuts a long file on an idle mesh into segments', async () => {
    const a = await twoNodes(8)
    const source = await sample(30, 'long.mp4')
    const { id } = await a.node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'long-out') })
    const job = await waitForJob(a, id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    const segments = job.units.filter(u => u.kind === 'segment')
    expect(segments.length).toBeGreaterThanOrEqual(4)
    expect(new Set(segments.map(u => u.worker))).toEqual(new Set(nodes.map(n => n.node.peerId)))
  })

  it('plans the first file of a batch whole when its request says more files follow', async () => {
    // Alone on an idle mesh a 30 s file is cut (the test above); here the request says two more
    // files of its size follow, so the mesh will have work for both slots without cutting it.
    const a = await twoNodes(8)
    const first = await sample(30, 'batch-first.mp4')
    const bytes = (await fs.stat(first)).size
    const outDir = path.join(media, 'following-out')
    const { id } = await a.node.api.submit({ source: first, profile: 'h264', outDir, following: { files: 2, bytes: 2 * bytes } })
    const job = await waitForJob(a, id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    expect(job.units.map(u => u.kind)).toEqual(['whole'])
  })
})
