import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { multiTrackMkv } from '../fixtures/media.js'
import {
  ffmesh,
  makeDataDir,
  startCli,
  startNodeProcess,
  type CliResult,
  type NodeProcess
} from '../helpers/node-harness.js'

const roots: string[] = []
const nodes: NodeProcess[] = []
afterAll(async () => {
  for (const n of nodes) await n.stop()
  await Promise.all(roots.map(r => fs.rm(r, { recursive: true, force: true })))
})

async function tempRoot (): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-wait-restart-'))
  roots.push(root)
  return root
}

/**
 * Runs `ffmesh ARGS` against a node on a new data dir in `root` and restarts the node under it, as a service
 * restart does (SIGTERM, then the same data dir started again), once the command has printed
 * `following`. The node's worker is paused until then, so the jobs are still under way when it
 * stops. Returns how the command ended, after checking it said the node went and came back.
 */
async function restartUnder (root: string, args: string[], following: string): Promise<CliResult> {
  const dataDir = await makeDataDir({ dir: path.join(root, 'data') })
  const first = await startNodeProcess(dataDir)
  nodes.push(first)
  expect((await ffmesh(['pause'], { dataDir })).code).toBe(0)
  const command = startCli(args, { dataDir })
  await command.printed(following)

  expect(await first.stop()).toMatchObject({ code: 0 })
  await command.printed('the node stopped answering; waiting up to 5 min for it to come back')
  const second = await startNodeProcess(dataDir)
  nodes.push(second)
  expect((await ffmesh(['resume'], { dataDir })).code).toBe(0)

  const result = await command.done
  expect(result.code, command.output()).toBe(0)
  expect(command.output()).toContain('the node answers again')
  return result
}

describe('a command following jobs while its node restarts', () => {
  it('submit --wait waits for the node to come back and ends with the job done', async () => {
    const root = await tempRoot()
    const source = await multiTrackMkv(root)
    const out = path.join(root, 'out')
    const result = await restartUnder(root, ['submit', source, '--profile', 'h264', '--out', out, '--wait'], 'submitted ')
    expect(result.stdout).toMatch(/\bdone\b/)
    expect(await fs.readdir(out)).toEqual([expect.stringMatching(/\.h264\.mkv$/)])
  })

  it('scan --wait waits for the node to come back and counts the file converted', async () => {
    const root = await tempRoot()
    const library = path.join(root, 'library')
    await fs.mkdir(library)
    // H.264 already: the library's h264 would skip it as needing nothing, so it goes to h265.
    await multiTrackMkv(library)
    const args = ['scan', library, '--profile', 'video=h265', '--out', path.join(root, 'out'), '--wait']
    const result = await restartUnder(root, args, 'queued, waiting for them to end')
    expect(result.stdout).toContain('found 1 media files: converted 1, skipped 0, failed 0')
  })
})
