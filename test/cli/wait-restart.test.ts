import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { multiTrackMkv } from '../fixtures/media.js'
import { ffmesh, makeDataDir, startCli, startNodeProcess, type NodeProcess } from '../helpers/node-harness.js'

const roots: string[] = []
const nodes: NodeProcess[] = []
afterAll(async () => {
  for (const n of nodes) await n.stop()
  await Promise.all(roots.map(r => fs.rm(r, { recursive: true, force: true })))
})

describe('a command following jobs while its node restarts', () => {
  it('submit --wait waits for the node to come back and ends with the job done', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-wait-restart-'))
    roots.push(root)
    const source = await multiTrackMkv(root)
    const out = path.join(root, 'out')
    const dataDir = await makeDataDir({ dir: path.join(root, 'data') })
    const first = await startNodeProcess(dataDir)
    nodes.push(first)
    // Paused, the job waits unconverted, so it is still under way when the node stops.
    expect((await ffmesh(['pause'], { dataDir })).code).toBe(0)
    const submit = startCli(['submit', source, '--profile', 'h264', '--out', out, '--wait'], { dataDir })
    await submit.printed('submitted ')

    // A service restart: SIGTERM, then the same data dir started again.
    expect(await first.stop()).toMatchObject({ code: 0 })
    await submit.printed('the node stopped answering; waiting up to 5 min for it to come back')
    const second = await startNodeProcess(dataDir)
    nodes.push(second)
    expect((await ffmesh(['resume'], { dataDir })).code).toBe(0)

    const result = await submit.done
    expect(result.code, submit.output()).toBe(0)
    expect(submit.output()).toContain('the node answers again')
    expect(result.stdout).toMatch(/\bdone\b/)
    expect(await fs.readdir(out)).toEqual([expect.stringMatching(/\.h264\.mkv$/)])
  })

  it('scan --wait waits for the node to come back and counts the file converted', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-scan-restart-'))
    roots.push(root)
    const library = path.join(root, 'library')
    await fs.mkdir(library)
    // H.264 already: the library's h264 would skip it as needing nothing, so it goes to h265.
    await multiTrackMkv(library)
    const out = path.join(root, 'out')
    const dataDir = await makeDataDir({ dir: path.join(root, 'data') })
    const first = await startNodeProcess(dataDir)
    nodes.push(first)
    expect((await ffmesh(['pause'], { dataDir })).code).toBe(0)
    const scan = startCli(['scan', library, '--profile', 'video=h265', '--out', out, '--wait'], { dataDir })
    await scan.printed('queued, waiting for them to end')

    expect(await first.stop()).toMatchObject({ code: 0 })
    await scan.printed('the node stopped answering; waiting up to 5 min for it to come back')
    const second = await startNodeProcess(dataDir)
    nodes.push(second)
    expect((await ffmesh(['resume'], { dataDir })).code).toBe(0)

    const result = await scan.done
    expect(result.code, scan.output()).toBe(0)
    expect(scan.output()).toContain('the node answers again')
    expect(result.stdout).toContain('found 1 media files: converted 1, skipped 0, failed 0')
  })
})
