import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobStatus } from '@ffmesh/protocol'
import {
  ffmesh,
  ffmeshJson,
  killOrphans,
  makeDataDir,
  startNodeProcess,
  waitUntil
} from '../helpers/node-harness.js'
import { makeVideo, probeStream, sha256, treeFiles } from '../helpers/library-tree.js'

/**
 * `--replace` with a kill -9 at each step of the swap (packages/node/src/library/swap.ts, armed by
 * FFMESH_TEST_CRASH_AT): right after the crash every source name holds the original or the
 * verified output, never neither and never part of one; after a restart each ends as the verified
 * output with the original in .ffmesh-trash/.
 */
const POINTS = [
  'swap-before-intent',
  'swap-after-intent',
  'swap-after-trash',
  'swap-after-rename',
  'swap-before-done'
] as const
/** 3 s at 25 fps. */
const FRAMES = 75

let root: string
beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-lib-swap-')) })
afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

/** What a name holds: the original (by hash), the verified output (HEVC with every frame), or neither. */
async function holds (file: string, original: string): Promise<'original' | 'output' | 'missing' | 'other'> {
  const there = await fs.stat(file).catch(() => null)
  if (there == null) return 'missing'
  if (await sha256(file) === original) return 'original'
  const stream = await probeStream(file).catch(() => ({ codec: '', packets: 0 }))
  return stream.codec === 'hevc' && stream.packets === FRAMES ? 'output' : 'other'
}

describe('fault scenarios: a crash during a --replace swap', () => {
  it.each(POINTS)(
    'crash at %s: each file is the original or the verified output, and the restart finishes the swap',
    async point => {
      const lib = path.join(root, point)
      // One output keeps its source's name (ep.mkv), one gets the profile's extension (film.mp4 → film.mkv).
      const ep = await makeVideo(path.join(lib, 'Show/ep.mkv'), { tone: 300 })
      const film = await makeVideo(path.join(lib, 'film.mp4'), { tone: 600 })
      const originals = { ep: await sha256(ep), film: await sha256(film) }
      const dataDir = await makeDataDir({ slots: 2 })
      const crashing = await startNodeProcess(dataDir, { env: { FFMESH_TEST_CRASH_AT: point } })
      let restarted = null
      try {
        expect((await ffmesh(['scan', lib, '--profile', 'video=h265', '--replace'], { dataDir })).code).toBe(0)
        const exited = await crashing.exited
        // Nothing but the armed crash point sends SIGKILL to the node.
        expect(exited.signal).toBe('SIGKILL')
        await killOrphans(dataDir)

        expect(['original', 'output']).toContain(await holds(ep, originals.ep))
        const filmName = await holds(film, originals.film)
        const filmOutput = await holds(path.join(lib, 'film.mkv'), originals.film)
        // film.mp4 goes only once film.mkv is the verified output (it is in the trash by then).
        expect(filmName === 'original' || filmOutput === 'output').toBe(true)
        expect(['missing', 'output']).toContain(filmOutput)

        restarted = await startNodeProcess(dataDir)
        const jobs = await waitUntil(
          async () => {
            const all = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
            return all.length === 2 && all.every(j => j.state === 'done') ? all : null
          },
          'both jobs done after the restart',
          240_000
        )
        expect(jobs.map(j => path.relative(lib, j.output as string)).sort()).toEqual(['Show/ep.mkv', 'film.mkv'])
        expect(await holds(ep, originals.ep)).toBe('output')
        expect(await holds(path.join(lib, 'film.mkv'), originals.film)).toBe('output')
        expect(await holds(film, originals.film)).toBe('missing')
        // The originals are kept, whole, in the library's trash; nothing half-written is left.
        const trash = await treeFiles(path.join(lib, '.ffmesh-trash'))
        expect(trash.map(f => f.split('/').slice(1).join('/')).sort()).toEqual(['Show/ep.mkv', 'film.mp4'])
        for (const f of trash) {
          const name = path.basename(f) === 'ep.mkv' ? 'ep' : 'film'
          expect(await sha256(path.join(lib, '.ffmesh-trash', f))).toBe(originals[name])
        }
        expect((await treeFiles(lib)).filter(f => !f.startsWith('.ffmesh-trash/')).sort()).toEqual([
          'Show/ep.mkv',
          'film.mkv'
        ])
        // A rescan takes the outputs for what they are: nothing is queued again.
        const again = await ffmeshJson<{ submitted: number; skipped: Array<{ reason: string }> }>(
          ['scan', lib, '--profile', 'video=h265', '--replace'],
          { dataDir }
        )
        expect(again.submitted).toBe(0)
      } finally {
        await crashing.stop('SIGKILL')
        await restarted?.stop()
      }
    }
  )

  it('a source replaced while the node was down mid-swap: the node starts, the job fails SOURCE_CHANGED, the new file stays', async () => {
    const lib = path.join(root, 'replaced-while-down')
    const film = await makeVideo(path.join(lib, 'film.mp4'), { tone: 600 })
    const dataDir = await makeDataDir({ slots: 2 })
    const crashing = await startNodeProcess(dataDir, { env: { FFMESH_TEST_CRASH_AT: 'swap-after-intent' } })
    let restarted = null
    try {
      expect((await ffmesh(['scan', lib, '--profile', 'video=h265', '--replace'], { dataDir })).code).toBe(0)
      expect((await crashing.exited).signal).toBe('SIGKILL')
      await killOrphans(dataDir)
      // A new release lands under the original's name while the node is down.
      const release = await makeVideo(film, { tone: 900, seconds: 4 })
      const released = await sha256(release)
      restarted = await startNodeProcess(dataDir)
      const [job] = await waitUntil(
        async () => {
          const all = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
          return all.length === 1 && all[0]?.state === 'failed' ? all : null
        },
        'the job failed after the restart',
        240_000
      )
      expect(job?.error?.code).toBe('SOURCE_CHANGED')
      expect(await sha256(film)).toBe(released)
      // Neither the output under its new name nor its hidden temp is left in the library.
      expect((await treeFiles(lib)).filter(f => !f.startsWith('.ffmesh-trash/'))).toEqual(['film.mp4'])
      expect((await ffmesh(['status'], { dataDir })).code).toBe(0)
    } finally {
      await crashing.stop('SIGKILL')
      await restarted?.stop()
    }
  })
})
