import { existsSync } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFakeNodeApi, type FakeNodeApi } from '../helpers/fake-node-api.js'
import { createControlServer, type ControlServer } from '../../packages/node/src/control/server.js'
import { startCli, type CliResult, type RunningCli } from '../helpers/node-harness.js'
import { paced } from '../helpers/pace.js'

/** What the binary loads; its absence means the build has not run. */
const BUILT_MAIN = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url))

/** The real binary, with only PATH, a HOME of its own and `env`: nothing of the user's FFMESH_*. */
function start (args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  return startCli(args, { env, cleanEnv: true, timeoutMs: paced(30_000) })
}

async function ffmesh (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return await start(args, env).done
}

/** Resolves with what `read` gives once it gives something; it is asked every 25 ms, for at most 10 s. */
async function until<T> (read: () => T | undefined, what = 'the condition'): Promise<T> {
  const deadline = performance.now() + paced(10_000)
  for (;;) {
    const v = read()
    if (v !== undefined) return v
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

describe('ffmesh CLI against a control server', () => {
  let dir: string
  let dataDir: string
  let api: FakeNodeApi
  let server: ControlServer
  let a: string
  let b: string

  beforeAll(async () => {
    expect(existsSync(BUILT_MAIN), 'run `npx tsc -b` first').toBe(true)
    dir = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-cli-'))
    dataDir = path.join(dir, 'data')
    a = path.join(dir, 'a.mkv')
    b = path.join(dir, 'b.mkv')
    await writeFile(a, 'a')
    await writeFile(b, 'b')
    const { mkdir } = await import('node:fs/promises')
    await mkdir(dataDir, { mode: 0o700 })
    api = createFakeNodeApi({
      peers: [
        {
          id: '12D3KooWPeer',
          name: 'box',
          slotsFree: 3,
          slotsTotal: 4,
          encoders: ['libx264', 'aac'],
          diskFree: 5e9,
          lastSeen: Date.now(),
          version: '1',
          paused: true,
          draining: false,
          schedule: { open: false, next: 1_900_000_000_000 },
          nextWindow: 1_900_000_000_000
        }
      ]
    })
    server = createControlServer({
      api,
      socketPath: path.join(dataDir, 'control.sock'),
      logger: pino({ level: 'silent' })
    })
    await server.start()
  })
  afterAll(async () => {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('submit --json prints an object for one file and an array for several, with absolute sources', async () => {
    const one = await ffmesh([
      'submit',
      path.relative(process.cwd(), a),
      '--profile',
      'h264',
      '--json',
      '--data-dir',
      dataDir
    ])
    expect(one.code).toBe(0)
    const doc = JSON.parse(one.stdout) as { id: string }
    expect(Object.keys(doc)).toEqual(['id'])
    expect(api.getJob(doc.id).source).toBe(a)

    const two = await ffmesh(['submit', a, b, '--profile', 'h265', '--out', 'outdir', '--handoff', '--json'], {
      FFMESH_DATA_DIR: dataDir
    })
    expect(two.code).toBe(0)
    const docs = JSON.parse(two.stdout) as Array<{ id: string }>
    expect(docs).toHaveLength(2)
    expect(docs.map(d => api.getJob(d.id).source)).toEqual([a, b])
    // Each request says what of the submission follows it, so the planner counts that work as coming.
    const bytes = (await stat(b)).size
    expect(api.submitted.slice(-2)).toEqual([
      { source: a, profile: 'h265', outDir: path.resolve('outdir'), handoff: true, following: { files: 1, bytes } },
      { source: b, profile: 'h265', outDir: path.resolve('outdir'), handoff: true, following: { files: 0, bytes: 0 } }
    ])
  })

  it('submit sends several files largest first and prints them in the order given', async () => {
    const big = path.join(dir, 'big.mkv')
    await writeFile(big, Buffer.alloc(300))
    const run = await ffmesh(['submit', a, big, '--profile', 'h264', '--json', '--data-dir', dataDir])
    expect(run.code).toBe(0)
    const docs = JSON.parse(run.stdout) as Array<{ id: string }>
    expect(docs.map(d => api.getJob(d.id).source)).toEqual([a, big])
    expect(api.submitted.slice(-2).map(r => [r.source, r.following])).toEqual([
      [big, { files: 1, bytes: 1 }],
      [a, { files: 0, bytes: 0 }]
    ])
  })

  it('submit --json puts an error in place of a refused file and exits non-zero', async () => {
    const run = await ffmesh([
      'submit',
      a,
      path.join(dir, 'missing.mkv'),
      '--profile',
      'h264',
      '--json',
      '--data-dir',
      dataDir
    ])
    expect(run.code).not.toBe(0)
    const docs = JSON.parse(run.stdout) as Array<Record<string, unknown>>
    expect(docs[0]).toEqual({ id: expect.any(String) })
    expect(docs[1]).toEqual({ error: { code: 'SOURCE_NOT_FOUND', message: expect.any(String) } })
    const bad = await ffmesh(['submit', a, '--profile', 'nope', '--data-dir', dataDir])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^error UNKNOWN_PROFILE: /m)
  })

  it('status, peers and profiles --json print the contract shapes', async () => {
    const { id } = await api.submit({ source: a, profile: 'h264' })
    const one = await ffmesh(['status', id, '--json', '--data-dir', dataDir])
    expect(one.code).toBe(0)
    const status = JSON.parse(one.stdout) as Record<string, unknown>
    expect(status).toMatchObject({ id, state: 'queued', profile: 'h264', source: a, output: null, error: null })
    expect(status.units).toEqual([expect.objectContaining({ index: 0, state: 'pending', worker: null, attempts: 0 })])
    const byPrefix = await ffmesh(['status', id.slice(0, 24).toLowerCase(), '--json', '--data-dir', dataDir])
    expect(JSON.parse(byPrefix.stdout)).toMatchObject({ id })

    const all = JSON.parse((await ffmesh(['status', '--json', '--data-dir', dataDir])).stdout) as Array<{ id: string }>
    expect(all.map(j => j.id)).toContain(id)
    const peers = JSON.parse((await ffmesh(['peers', '--json', '--data-dir', dataDir])).stdout) as unknown[]
    expect(peers).toEqual([
      {
        id: '12D3KooWPeer',
        name: 'box',
        slotsFree: 3,
        encoders: ['libx264', 'aac'],
        diskFree: 5e9,
        lastSeen: expect.any(Number),
        paused: true,
        draining: false,
        nextWindow: 1_900_000_000_000
      }
    ])
    expect((await ffmesh(['peers', '--data-dir', dataDir])).stdout).toContain('outside its schedule until')
    const profiles = JSON.parse((await ffmesh(['profiles', '--json', '--data-dir', dataDir])).stdout) as Array<{
      name: string
    }>
    expect(profiles.map(p => p.name)).toEqual(
      expect.arrayContaining(['h264', 'h265', 'av1', 'vp9', 'opus', 'aac', 'mp3', 'flac', 'webp'])
    )

    const table = await ffmesh(['status', '--data-dir', dataDir])
    expect(table.code).toBe(0)
    expect(table.stdout).toContain(id)
    expect(table.stdout).not.toContain('\u001b[')
  })

  it('status --mesh --json prints job statuses with their owner; pause and resume print the worker state', async () => {
    const { id } = await api.submit({ source: a, profile: 'h264' })
    const mesh = JSON.parse((await ffmesh(['status', '--mesh', '--json', '--data-dir', dataDir])).stdout) as Array<
      Record<string, unknown>
    >
    expect(mesh.find(j => j.id === id)).toMatchObject({
      id,
      owner: expect.any(String),
      ownerName: expect.any(String),
      ownerAway: false
    })
    const both = await ffmesh(['status', '--mesh', '--watch', '--data-dir', dataDir])
    expect(both.stderr).toMatch(/^error BAD_ARGUMENTS: /m)

    const paused = await ffmesh(['pause', '--drain', '--json', '--data-dir', dataDir])
    expect(JSON.parse(paused.stdout)).toMatchObject({ paused: true, pausedBy: 'user' })
    expect((await ffmesh(['pause', '--data-dir', dataDir])).stdout).toBe('worker paused\n')
    expect(JSON.parse((await ffmesh(['resume', '--json', '--data-dir', dataDir])).stdout)).toMatchObject({
      paused: false,
      pausedBy: null
    })
  })

  it('submit --wait follows the event stream: exit 0 when done, non-zero when failed', async () => {
    const before = api.listJobs().length
    const waiting = start(['submit', a, '--profile', 'h264', '--wait', '--data-dir', dataDir])
    const job = await until(() => api.listJobs()[before], 'the submission')
    // The first line is printed once the event stream is open: what follows reaches it as events.
    await waiting.printed(`${job.id} queued 0%`)
    api.progress(job.id, 0.5)
    // Shown at the redraw after the progress event; the end, which wakes the CLI at once, comes after.
    await waiting.printed(`${job.id} running 50%`)
    api.finish(job.id, 'done')
    const done = await waiting.done
    expect(done.code).toBe(0)
    expect(done.stdout).toContain(`${job.id} done 100%`)

    const failing = ffmesh(['submit', b, '--profile', 'h264', '--wait', '--json', '--data-dir', dataDir])
    const job2 = await until(() => api.listJobs()[before + 1], 'the second submission')
    api.finish(job2.id, 'failed')
    const failed = await failing
    expect(failed.code).not.toBe(0)
    expect(JSON.parse(failed.stdout)).toEqual({ id: job2.id })
  })

  it('status JOB --watch ends with the job', async () => {
    const { id } = await api.submit({ source: a, profile: 'h264' })
    const watching = start(['status', id, '--watch', '--data-dir', dataDir])
    // Following the job (its stream open, its state read) before it ends, not reading it once ended.
    await watching.printed(`${id} queued 0%`)
    api.finish(id, 'done')
    const run = await watching.done
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`${id} done 100%`)
  })

  it('cancel, retry and fetch report the node\'s codes', async () => {
    const { id } = await api.submit({ source: a, profile: 'h264' })
    const retry = await ffmesh(['retry', id, '--data-dir', dataDir])
    expect(retry.code).toBe(1)
    expect(retry.stderr).toMatch(/^error JOB_NOT_RETRYABLE: /)
    expect((await ffmesh(['cancel', id, '--data-dir', dataDir])).code).toBe(0)
    expect(api.getJob(id).state).toBe('cancelled')
    const fetch = await ffmesh(['fetch', id, '--out', dir, '--json', '--data-dir', dataDir])
    expect(fetch.code).toBe(1)
    expect(JSON.parse(fetch.stdout)).toEqual({ error: { code: 'JOB_NOT_DONE', message: expect.any(String) } })
    const unknown = await ffmesh(['status', '01ARZ3NDEKTSV4RRFFQ69G5FAV', '--data-dir', dataDir])
    expect(unknown.stderr).toMatch(/^error JOB_NOT_FOUND: /)
  })

  it('watch add, list and remove', async () => {
    expect(
      (await ffmesh(['watch', 'add', dir, '--profile', 'h264', '--out', path.join(dir, 'out'), '--data-dir', dataDir]))
        .code
    ).toBe(0)
    const list = JSON.parse((await ffmesh(['watch', 'list', '--json', '--data-dir', dataDir])).stdout) as Array<{
      path: string
      output: string
    }>
    expect(list).toMatchObject([{ path: dir, output: path.join(dir, 'out') }])
    expect((await ffmesh(['watch', 'remove', dir, '--data-dir', dataDir])).code).toBe(0)
    const again = await ffmesh(['watch', 'remove', dir, '--data-dir', dataDir])
    expect(again.stderr).toMatch(/^error WATCH_NOT_FOUND: /)
  })
})

describe('ffmesh CLI without a node', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-cli-none-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('says NODE_NOT_RUNNING, which socket it tried and how to start a node', async () => {
    const run = await ffmesh(['status', '--data-dir', dir])
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/^error NODE_NOT_RUNNING: /)
    expect(run.stderr).toContain(path.join(dir, 'control.sock'))
    expect(run.stderr).toContain(`ffmesh node --data-dir ${dir}`)
    const json = await ffmesh(['peers', '--json'], { FFMESH_DATA_DIR: dir })
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'NODE_NOT_RUNNING' } })
  })

  it('exits 2 on usage errors', async () => {
    for (const args of [['status', '--bogus'], ['frobnicate'], ['submit', 'x.mkv'], []]) {
      const run = await ffmesh(args)
      expect({ args, code: run.code }).toEqual({ args, code: 2 })
    }
    expect((await ffmesh(['--help'])).code).toBe(0)
  })

  it('init creates a data dir the node can use, and is idempotent', async () => {
    const data = path.join(dir, 'new')
    const run = await ffmesh(['init', '--json', '--data-dir', data])
    expect(run.code).toBe(0)
    const result = JSON.parse(run.stdout) as { peerId: string, created: string[] }
    expect(result.peerId).toMatch(/^12D3KooW/)
    expect((await stat(path.join(data, 'swarm.key'))).mode & 0o777).toBe(0o600)
    const second = JSON.parse((await ffmesh(['init', '--json'], { FFMESH_DATA_DIR: data })).stdout) as {
      peerId: string
      created: string[]
    }
    expect(second).toMatchObject({ peerId: result.peerId, created: [] })
    const other = path.join(dir, 'other')
    await ffmesh(['init', '--data-dir', other])
    const clash = await ffmesh(['init', '--data-dir', other, '--swarm-key-file', path.join(data, 'swarm.key')])
    expect(clash.code).toBe(1)
    expect(clash.stderr).toMatch(/^error BAD_ARGUMENTS: /)
  })
})
