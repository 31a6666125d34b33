import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes } from '@ffmesh/protocol'
import { image, shortClip, textAsMp4, truncatedMp4, zeroByte } from './fixtures/media.js'
import { controlCall } from './helpers/control-call.js'
import { ffmesh, makeDataDir, startNodeProcess, type NodeProcess } from './helpers/node-harness.js'
import { paced } from './helpers/pace.js'

let media: string
let dataDir: string
let node: NodeProcess

beforeAll(async () => {
  media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-bad-'))
  dataDir = await makeDataDir({ slots: 1 })
  node = await startNodeProcess(dataDir)
})
afterAll(async () => {
  await node?.stop()
  await fs.rm(media, { recursive: true, force: true })
})

async function submitError (args: string[]): Promise<{ code: number, error: string }> {
  const r = await ffmesh(['submit', ...args, '--json'], { dataDir })
  const body = JSON.parse(r.stdout) as { error?: { code: string, message: string } }
  expect(body.error?.message.length ?? 0).toBeGreaterThan(10)
  return { code: r.code, error: body.error?.code ?? '' }
}

describe('bad input gets a clear error code and the node keeps running', () => {
  it('refuses each bad source at submit with its own code', async () => {
    const dir = path.join(media, 'a-directory')
    await fs.mkdir(dir)
    const cases: Array<[string[], string]> = [
      [[path.join(media, 'missing.mp4'), '--profile', 'h264'], ErrorCodes.SOURCE_NOT_FOUND],
      [[dir, '--profile', 'h264'], ErrorCodes.SOURCE_IS_DIRECTORY],
      [[await zeroByte(media), '--profile', 'h264'], ErrorCodes.SOURCE_EMPTY],
      [[await textAsMp4(media), '--profile', 'h264'], ErrorCodes.SOURCE_NOT_MEDIA],
      [[await truncatedMp4(media), '--profile', 'h264'], ErrorCodes.SOURCE_CORRUPT],
      [[await shortClip(media), '--profile', 'no-such-profile'], ErrorCodes.UNKNOWN_PROFILE],
      [[await image(media), '--profile', 'mp3'], ErrorCodes.PROFILE_MISMATCH],
      [
        [await shortClip(media), '--profile', 'h264', '--out', path.join(await zeroByte(media), 'under-a-file')],
        ErrorCodes.OUTPUT_NOT_WRITABLE
      ]
    ]
    for (const [args, code] of cases) {
      const r = await submitError(args)
      expect(r.error, args.join(' ')).toBe(code)
      expect(r.code).not.toBe(0)
    }
    const plain = await ffmesh(['submit', path.join(media, 'missing.mp4'), '--profile', 'h264'], { dataDir })
    expect(plain.code).not.toBe(0)
    expect(plain.stderr).toContain(ErrorCodes.SOURCE_NOT_FOUND)
    // Nothing bad became a job, and the node still converts good input.
    const good = await ffmesh(
      ['submit', await shortClip(media), '--profile', 'h264', '--out', path.join(media, 'good'), '--wait', '--json'],
      { dataDir }
    )
    expect(good.code, good.stderr).toBe(0)
    const jobs = JSON.parse((await ffmesh(['status', '--json'], { dataDir })).stdout) as unknown[]
    expect(jobs).toHaveLength(1)
  })

  it('reports a second node on the same data dir, a missing node, a bad config and missing or exposed keys', async () => {
    const second = await ffmesh(['node', '--data-dir', dataDir], { timeoutMs: paced(30_000) })
    expect(second.code).not.toBe(0)
    expect(second.stderr).toContain(ErrorCodes.NODE_ALREADY_RUNNING)

    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-none-'))
    const none = await ffmesh(['status', '--json'], { dataDir: empty })
    expect(none.code).not.toBe(0)
    expect((JSON.parse(none.stdout) as { error: { code: string } }).error.code).toBe(ErrorCodes.NODE_NOT_RUNNING)

    const bad = await makeDataDir()
    await fs.writeFile(path.join(bad, 'config.yaml'), 'worker:\n  slots: many\n')
    const badRun = await ffmesh(['node', '--data-dir', bad], { timeoutMs: paced(30_000) })
    expect(badRun.code).not.toBe(0)
    expect(badRun.stderr).toContain(ErrorCodes.CONFIG_INVALID)
    expect(badRun.stderr).toContain('worker.slots')

    const exposed = await makeDataDir()
    await fs.chmod(path.join(exposed, 'swarm.key'), 0o644)
    const exposedRun = await ffmesh(['node', '--data-dir', exposed], { timeoutMs: paced(30_000) })
    expect(exposedRun.stderr).toContain(ErrorCodes.SWARM_KEY_INSECURE)
    await fs.rm(path.join(exposed, 'swarm.key'))
    const missingRun = await ffmesh(['node', '--data-dir', exposed], { timeoutMs: paced(30_000) })
    expect(missingRun.code).not.toBe(0)
    expect(missingRun.stderr).toContain(ErrorCodes.SWARM_KEY_MISSING)
    expect(missingRun.stderr).toContain(path.join(exposed, 'swarm.key'))
    await Promise.all([empty, bad, exposed].map(d => fs.rm(d, { recursive: true, force: true })))
  })

  it('refuses through the control API what the CLI would not send: each with its code, nothing added', async () => {
    const socketPath = path.join(dataDir, 'control.sock')
    const out = path.join(media, 'api-out')
    // Relative to the node's working folder this one exists: it must not be taken for it.
    const relative = path.relative(process.cwd(), path.dirname(new URL(import.meta.url).pathname))
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/libraries', { path: relative, profiles: { video: 'h265' }, output: out }, 400, 'LIBRARY_PATH_INVALID'],
      ['POST', '/v1/watches', { path: media, profile: 'h256', output: out }, 400, 'UNKNOWN_PROFILE'],
      ['GET', '/v1/mesh/jobs/foo', undefined, 400, 'BAD_ARGUMENTS'],
      ['GET', '//', undefined, 400, 'BAD_ARGUMENTS']
    ]
    for (const [method, url, body, status, code] of cases) {
      const reply = await controlCall(socketPath, method, url, body)
      expect({ url, status: reply.status, code: codeOf(reply.body) }).toEqual({ url, status, code })
    }
    expect((await controlCall(socketPath, 'GET', '/v1/libraries')).body).toEqual([])
    expect((await controlCall(socketPath, 'GET', '/v1/watches')).body).toEqual([])
    // An empty query value is one left out, as on the mesh's listing: not a limit of 0.
    const submitted = await ffmesh(['submit', await shortClip(media), '--profile', 'h264', '--out', out], { dataDir })
    expect(submitted.code, submitted.stderr).toBe(0)
    const ids = async (url: string): Promise<string[]> =>
      ((await controlCall(socketPath, 'GET', url)).body as Array<{ id: string }>).map(j => j.id)
    const all = await ids('/v1/jobs')
    expect(all.length).toBeGreaterThan(0)
    expect(await ids('/v1/jobs?limit=&batch=&offset=&order=')).toEqual(all)
  })
})

const codeOf = (body: unknown): string | undefined => (body as { error?: { code: string } } | null)?.error?.code
