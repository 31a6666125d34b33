import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes, type JobStatus } from '@ffmesh/protocol'
import { audioOnly, shortClip, textAsMp4 } from './fixtures/media.js'
import {
  ffmesh,
  ffmeshJson,
  makeDataDir,
  startNodeProcess,
  waitForJobEnd,
  waitUntil,
  type NodeProcess
} from './helpers/node-harness.js'

/**
 * Names a file system allows but a careless pipeline trips on, and the codes a person gets where
 * an internal error used to show: the real `ffmesh` binary against a real node.
 */
let media: string
let dataDir: string
let node: NodeProcess

beforeAll(async () => {
  media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-names-'))
  dataDir = await makeDataDir({ slots: 1 })
  node = await startNodeProcess(dataDir)
})
afterAll(async () => {
  await node?.stop()
  await fs.rm(media, { recursive: true, force: true })
})

const errorOf = (stdout: string): string | undefined => (JSON.parse(stdout) as { error?: { code: string } }).error?.code

describe('names as long as the file system allows, and odd characters', () => {
  it('converts a source whose name is 250 bytes, with an output name that fits', async () => {
    // 247 bytes of stem and a short extension: `<stem>.h264.mkv` would be 256 bytes. 'é' is two
    // bytes in UTF-8, so a cut must not split one.
    const stem = 'é'.repeat(60) + 'x'.repeat(127)
    const source = path.join(media, `${stem}.ts`)
    expect(Buffer.byteLength(path.basename(source))).toBe(250)
    await fs.copyFile(await shortClip(media), source)
    const out = path.join(media, 'long-out')
    const r = await ffmesh(['submit', source, '--profile', 'h264', '--out', out, '--wait', '--json'], { dataDir })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const { id } = JSON.parse(r.stdout) as { id: string }
    const job = await ffmeshJson<JobStatus>(['status', id], { dataDir })
    expect(job.state).toBe('done')
    const name = path.basename(job.output as string)
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255)
    expect(name.endsWith('.h264.mkv')).toBe(true)
    expect(name.startsWith('é'.repeat(60))).toBe(true)
    expect(await fs.readdir(out)).toEqual([name])
  })

  it('gives a source with a newline in its name an output name without control characters', async () => {
    const source = path.join(media, 'two\nlines\tand\u0007bell.flac')
    await fs.copyFile(await audioOnly(media), source)
    const r = await ffmesh(
      ['submit', source, '--profile', 'opus', '--out', path.join(media, 'odd-out'), '--wait', '--json'],
      { dataDir }
    )
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const { id } = JSON.parse(r.stdout) as { id: string }
    const job = await ffmeshJson<JobStatus>(['status', id], { dataDir })
    expect(path.basename(job.output as string)).toBe('two_lines_and_bell.opus.opus')
    // eslint-disable-next-line no-control-regex -- the assertion is about control characters
    expect(job.output).not.toMatch(/[\u0000-\u001f]/)
  })
})

describe('codes instead of INTERNAL', () => {
  it('refuses `fetch --out /proc` with OUTPUT_NOT_WRITABLE', async () => {
    const r = await ffmesh(
      [
        'submit',
        await shortClip(media),
        '--profile',
        'h264',
        '--out',
        path.join(media, 'fetch-out'),
        '--wait',
        '--json'
      ],
      { dataDir }
    )
    expect(r.code, r.stderr).toBe(0)
    const { id } = JSON.parse(r.stdout) as { id: string }
    const fetched = await ffmesh(['fetch', id, '--out', '/proc', '--json'], { dataDir })
    expect(fetched.code).not.toBe(0)
    expect(errorOf(fetched.stdout)).toBe(ErrorCodes.OUTPUT_NOT_WRITABLE)
  })

  it('leaves no new output folder behind when it refuses a submit', async () => {
    const out = path.join(media, 'never', 'made')
    const r = await ffmesh(['submit', await textAsMp4(media), '--profile', 'h264', '--out', out, '--json'], { dataDir })
    expect(errorOf(r.stdout)).toBe(ErrorCodes.SOURCE_NOT_MEDIA)
    await expect(fs.stat(path.join(media, 'never'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('fails a job whose source was deleted after it was planned with SOURCE_CHANGED, not CONVERT_FAILED', async () => {
    // A node that converts nothing plans the job (an audio file: one unit that reads the source)
    // and offers it; nobody takes it, so the source is gone before any conversion starts.
    const idle = await makeDataDir({ slots: 0, extra: { mesh: { enabled: false } } })
    const planner = await startNodeProcess(idle)
    try {
      const source = path.join(media, 'deleted-later.flac')
      await fs.copyFile(await audioOnly(media), source)
      const r = await ffmeshJson<{ id: string }>(
        ['submit', source, '--profile', 'opus', '--out', path.join(media, 'deleted-out')],
        { dataDir: idle }
      )
      const id = r.id
      await waitUntil(
        async () => (await ffmeshJson<JobStatus>(['status', id], { dataDir: idle })).units.length > 0,
        'the job to be planned'
      )
      await fs.rm(source)
      const job = await waitForJobEnd(idle, id)
      expect(job.state).toBe('failed')
      expect(job.error?.code).toBe(ErrorCodes.SOURCE_CHANGED)
      expect(job.error?.message).toContain(source)
    } finally {
      await planner.stop()
    }
  })

  it('takes a unique start of a job id, in any case, and says so when a start is ambiguous or unknown', async () => {
    const submit = async (out: string): Promise<string> =>
      (await ffmeshJson<{ id: string }>(
        ['submit', await shortClip(media), '--profile', 'h264', '--out', path.join(media, out)],
        { dataDir }
      )).id
    const a = await submit('prefix-a')
    const b = await submit('prefix-b')
    let shared = 0
    while (a[shared] === b[shared]) shared++
    expect(shared).toBeGreaterThan(0)
    expect((await ffmeshJson<JobStatus>(['status', a.slice(0, 22).toLowerCase()], { dataDir })).id).toBe(a)
    const ambiguous = await ffmesh(['cancel', a.slice(0, shared), '--json'], { dataDir })
    expect(errorOf(ambiguous.stdout)).toBe(ErrorCodes.BAD_ARGUMENTS)
    expect(ambiguous.stdout).toContain('more than one job')
    for (const unknown of ['ZZZZZZ', 'ab-c', 'A'.repeat(27)]) {
      const r = await ffmesh(['cancel', unknown, '--json'], { dataDir })
      expect(errorOf(r.stdout), unknown).toBe(ErrorCodes.JOB_NOT_FOUND)
    }
  })
})
