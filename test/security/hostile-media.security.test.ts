import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes } from '@ffmesh/protocol'
import { convertTimeoutMs } from '../../packages/node/src/media/convert.js'
import { startTestNodes, stopTestNodes, waitForJob, type TestNode } from '../helpers/in-process.js'
import { waitUntil } from '../helpers/node-harness.js'
import { paced } from '../helpers/pace.js'

/**
 * Inputs that hang or break ffmpeg. A wrapper ffmpeg hangs every H.264 encode while a
 * flag file exists; `worker.convertTimeoutScale` (the documented knob) makes the unit's time limit,
 * derived from its duration, a few seconds long. The unit must end failed with a reason, no
 * process may be left behind, and the node must go on with other work.
 */
const run = promisify(execFile)
const TIMEOUT_SCALE = 0.004
/** Marks the wrapper's hanging child so the test can prove it was stopped. */
const HANG_MARK = '86399'
let media: string
let hangFlag: string
let crashFlag: string
let nodes: TestNode[] = []

beforeAll(async () => {
  media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-hostile-'))
  hangFlag = path.join(media, 'hang')
  crashFlag = path.join(media, 'crash')
  const wrapper = path.join(media, 'ffmpeg-that-hangs')
  await fs.writeFile(
    wrapper,
    `#!/bin/sh\nif [ -e '${hangFlag}' ]; then for a in "$@"; do [ "$a" = "libx264" ] && exec sleep ${HANG_MARK}; done; fi\n` +
      `if [ -e '${crashFlag}' ]; then for a in "$@"; do [ "$a" = "libx264" ] && kill -SEGV $$; done; fi\nexec ffmpeg "$@"\n`,
    { mode: 0o755 }
  )
  nodes = await startTestNodes([{
    name: 'solo',
    mesh: false,
    extra: {
      ffmpeg: { ffmpegPath: wrapper },
      worker: { slots: 1, minFreeDisk: 0, convertTimeoutScale: TIMEOUT_SCALE },
      jobs: { segmentSeconds: 2, leaseSeconds: 10, heartbeatSeconds: 1, maxAttempts: 2 }
    }
  }])
}, paced(120_000))

afterAll(async () => {
  await stopTestNodes(nodes)
  await fs.rm(media, { recursive: true, force: true })
})

async function sample (name: string, seconds: number, format: string): Promise<string> {
  const file = path.join(media, name)
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=320x240:rate=25:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    '-c:a',
    'aac',
    '-f',
    format,
    file
  ])
  return file
}

async function hangingChildren (): Promise<number> {
  let n = 0
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmd = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (cmd === `sleep\0${HANG_MARK}\0`) n++
  }
  return n
}

describe('media that hangs or breaks ffmpeg', () => {
  it(
    'a hung encode is stopped after its duration-derived limit; the unit fails with a reason and the node goes on',
    async () => {
      const [solo] = nodes
      const source = await sample('hang.mkv', 2, 'matroska')
      await fs.writeFile(hangFlag, '')
      const limitMs = convertTimeoutMs(2) * TIMEOUT_SCALE
      const started = Date.now()
      const { id } = await solo.node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'out-hang') })
      await waitUntil(async () => (await hangingChildren()) === 1, 'the encode to hang', paced(30_000))
      const job = await waitForJob(solo, id, paced(120_000))
      const elapsed = Date.now() - started
      expect(job.state).toBe('failed')
      expect(job.error?.code).toBe(ErrorCodes.ATTEMPTS_EXHAUSTED)
      expect(job.error?.message).toContain(ErrorCodes.CONVERT_TIMEOUT)
      // Two attempts, each stopped at its limit (plus SIGTERM grace and scheduling), not left running.
      expect(elapsed).toBeGreaterThanOrEqual(2 * limitMs)
      expect(elapsed).toBeLessThan(2 * limitMs + paced(30_000))
      expect(
        solo.events.filter(
          e => e.type === 'unit:released' && (e.data as { code?: string }).code === ErrorCodes.CONVERT_TIMEOUT
        ).length
      ).toBeGreaterThanOrEqual(2)
      expect(await hangingChildren()).toBe(0)

      // The same worker converts the next job.
      await fs.rm(hangFlag)
      const next = await solo.node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'out-next') })
      expect((await waitForJob(solo, next.id, paced(120_000))).state).toBe('done')
    },
    paced(180_000)
  )

  it(
    'submit refuses relative, NUL-bearing and non-media sources with a code, and converts odd but real file names as files',
    async () => {
      const [solo] = nodes
      const refused: Array<[string, string]> = [
        ...['../x', 'a/../../x', 'C:../x', '-x', 'concat:x', 'file:x', 'http://x', 'x.mkv'].map(
          s => [s, ErrorCodes.BAD_ARGUMENTS] as [string, string]
        ),
        [`${media}/x\0y.mkv`, ErrorCodes.BAD_ARGUMENTS],
        ['/etc/passwd', ErrorCodes.SOURCE_NOT_MEDIA],
        ['////etc/x', ErrorCodes.SOURCE_NOT_FOUND]
      ]
      for (const [source, code] of refused) {
        await expect(
          solo.node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'never') }),
          source
        ).rejects.toMatchObject({ code })
      }
      await expect(fs.stat(path.join(media, 'never', 'x.mkv'))).rejects.toThrow()
      for (const name of ['concat:x|y.mkv', '-i http:x.mkv']) {
        const source = await sample(name.replace(/[|: ]/g, '_'), 1, 'matroska')
        const odd = path.join(media, name)
        await fs.rename(source, odd)
        const { id } = await solo.node.api.submit({ source: odd, profile: 'h264', outDir: path.join(media, 'odd-out') })
        const job = await waitForJob(solo, id, paced(120_000))
        expect(job.state, JSON.stringify(job.error)).toBe('done')
      }
    },
    paced(180_000)
  )

  it('an encoder that crashes fails the unit with the signal as its reason, and the node goes on', async () => {
    const [solo] = nodes
    const source = await sample('crash.mkv', 2, 'matroska')
    await fs.writeFile(crashFlag, '')
    try {
      const { id } = await solo.node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'out-crash') })
      const job = await waitForJob(solo, id, paced(120_000))
      expect(job.state).toBe('failed')
      expect(job.error?.code).toBe(ErrorCodes.ATTEMPTS_EXHAUSTED)
      expect(job.error?.message).toContain(ErrorCodes.CONVERT_FAILED)
      expect(job.error?.message).toContain('SIGSEGV')
    } finally {
      await fs.rm(crashFlag, { force: true })
    }
    const { id } = await solo.node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'out-after-crash') })
    expect((await waitForJob(solo, id, paced(120_000))).state).toBe('done')
  }, paced(180_000))

  // ffmpeg conceals damaged packets: such a source may well convert (then verified like any
  // other, frame count against the owner's own count) or fail; either way it ends, with a reason.
  it('a source whose middle is overwritten with garbage ends with a verdict, and the node goes on', async () => {
    const [solo] = nodes
    for (const [name, format] of [['garbled.ts', 'mpegts'], ['garbled.mkv', 'matroska']] as const) {
      const source = await sample(name, 6, format)
      const { size } = await fs.stat(source)
      const fh = await fs.open(source, 'r+')
      await fh.write(randomBytes(Math.floor(size / 5)), 0, Math.floor(size / 5), Math.floor(size * 0.4))
      await fh.close()
      let job
      try {
        const { id } = await solo.node.api.submit({ source, profile: 'h264', outDir: path.join(media, `out-${name}`) })
        job = await waitForJob(solo, id, paced(120_000))
      } catch (err) {
        // Refused at intake (probe) is a verdict too, with a code.
        expect((err as { code?: string }).code).toMatch(/^SOURCE_/)
        continue
      }
      expect(['done', 'failed']).toContain(job.state)
      if (job.state === 'failed') {
        expect(job.error?.code).toBeTruthy()
        expect(job.error?.message.length).toBeGreaterThan(10)
      } else {
        // Done means verified: the output frame count matched what the owner counted in the source.
        await expect(fs.stat(job.output as string)).resolves.toBeTruthy()
      }
    }
    const good = await sample('good.mkv', 2, 'matroska')
    const { id } = await solo.node.api.submit({ source: good, profile: 'h264', outDir: path.join(media, 'out-good') })
    expect((await waitForJob(solo, id, paced(120_000))).state).toBe('done')
  }, paced(240_000))
})
