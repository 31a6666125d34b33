import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobStatus, StatsReport } from '@ffmesh/protocol'
import { dataPaths, jobLogFiles } from '../packages/node/src/config/paths.js'
import { openJobStore } from '../packages/node/src/store/job-store.js'
import { makeClip } from './helpers/faults-cluster.js'
import { ffmesh, ffmeshJson, makeDataDir, startNodeProcess, waitUntil, type NodeProcess } from './helpers/node-harness.js'

/**
 * A library's done jobs do not fill the node's memory over the weeks: after
 * jobs.doneUnitsRetentionSeconds a done job lets its units go and keeps what `ffmesh stats` counts,
 * and the log it leaves opens whole. One real node, restarted.
 */
const RETENTION_SECONDS = 4

let root: string
let dataDir: string
let node: NodeProcess | null = null
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-done-units-'))
  dataDir = await makeDataDir({
    dir: path.join(root, 'data'),
    slots: 1,
    extra: { jobs: { doneUnitsRetentionSeconds: RETENTION_SECONDS } }
  })
  node = await startNodeProcess(dataDir)
})
afterAll(async () => {
  await node?.stop()
  await fs.rm(root, { recursive: true, force: true })
})

const status = (id: string): Promise<JobStatus> => ffmeshJson<JobStatus>(['status', id], { dataDir })
const stats = (): Promise<StatsReport> => ffmeshJson<StatsReport>(['stats'], { dataDir })

describe('done jobs past their retention', () => {
  it('keep their state, output and totals without their units, across a restart', async () => {
    const clip = await makeClip(root, 'clip.mp4', 6)
    const { id } = await ffmeshJson<{ id: string }>(['submit', clip, '--profile', 'h264', '--out', path.join(root, 'out'), '--wait'], {
      dataDir
    })
    const done = await status(id)
    expect(done.state).toBe('done')
    expect(done.units.length).toBeGreaterThan(2)
    const counted = await stats()
    expect(counted.byNode[0]?.units).toBe(done.units.length)

    const compacted = await waitUntil(
      async () => {
        const s = await status(id)
        return s.units.length === 0 ? s : null
      },
      `the done job's units let go after ${RETENTION_SECONDS} s`
    )
    const { units: _was, ...rest } = done
    expect(compacted).toEqual({ ...rest, units: [] })
    expect(await stats()).toEqual(counted)
    expect((await ffmesh(['status', id], { dataDir })).stdout).toContain('its units let go')

    await node?.stop('SIGTERM')
    // Its log keeps one event of the job, the compaction, and opens whole.
    const log = await openJobStore({ files: jobLogFiles(dataPaths(dataDir)) })
    try {
      expect(log.opened.intact).toBe(true)
      expect((await log.history(id)).map(e => e.event.type)).toEqual(['job:compacted'])
    } finally {
      await log.close()
    }
    node = await startNodeProcess(dataDir)
    expect(await status(id)).toEqual(compacted)
    expect(await stats()).toEqual(counted)
    await fs.access(done.output as string)
  })
})
