import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { ErrorCodes } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../logger.js'
import { createPriorityLauncher, findInPath } from './priority.js'
import { createFfmpegRunner } from './runner.js'

const run = promisify(execFile)
const logger = createLogger({ level: 'silent' })

/** The pid of the ffmpeg whose argv carries `marker`, once it has exec'd (argv[0] is ffmpeg). */
async function ffmpegWith (marker: string): Promise<number> {
  const deadline = Date.now() + 30_000
  for (;;) {
    for (const entry of await fs.readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const argv = (await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0')
      if (/ffmpeg$/.test(argv[0] ?? '') && argv.includes(`comment=${marker}`)) return Number(entry)
    }
    if (Date.now() > deadline) throw new Error(`no ffmpeg with ${marker} appeared`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Field 19 of /proc/PID/stat (after the parenthesised command name) is the nice value. */
async function niceOf (pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
}

/** The thread ids of a process once its encoder threads have started (more than one thread). */
async function threadsOf (pid: number): Promise<string[]> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const tids = await fs.readdir(`/proc/${pid}/task`)
    if (tids.length > 1 || Date.now() > deadline) return tids
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** A stand-in for ffprobe that prints, as JSON, the CPU nice value and I/O class it runs at. */
async function priorityScript (): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-prio-'))
  const file = path.join(dir, 'ffprobe')
  const io = '$(ionice -p $$ | cut -d: -f1)'
  await fs.writeFile(file, `#!/bin/sh\nprintf '{"nice": %s, "io": "%s"}' "$(nice)" "${io}"\n`, { mode: 0o755 })
  return file
}

/** Runs ffmpeg at real-time speed (-re) until aborted, and reports its priority while it runs. */
async function priorityWhileRunning (
  runner: ReturnType<typeof createFfmpegRunner>,
  options: { streamCopy?: boolean } = {}
): Promise<{ nice: number; io: string; threadNices: number[] }> {
  const marker = `ffm-ms-prio-${randomUUID()}`
  const abort = new AbortController()
  const running = runner.run(
    [
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-t',
      '600',
      '-c:v',
      'libx264',
      '-threads',
      '2',
      '-metadata',
      `comment=${marker}`,
      '-f',
      'null',
      '-'
    ],
    { ...options, signal: abort.signal }
  )
  running.catch(() => {})
  try {
    const pid = await ffmpegWith(marker)
    // The encoder's threads start after the first frames; each must carry the priority too.
    const tids = await threadsOf(pid)
    const threadNices = await Promise.all(tids.map(async tid => await niceOf(Number(tid)).catch(() => -1)))
    const { stdout } = await run('ionice', ['-p', String(pid)])
    return { nice: await niceOf(pid), io: stdout.trim(), threadNices: threadNices.filter(n => n >= 0) }
  } finally {
    abort.abort()
    await running.catch(() => {})
  }
}

describe('ffmpeg children at a low priority', () => {
  it('runs ffmpeg (every thread) at the configured nice value in the idle I/O class', async () => {
    const low = await priorityWhileRunning(createFfmpegRunner({ logger, priority: { nice: 10, ioIdle: true } }))
    expect(low.nice).toBe(10)
    expect(low.io).toBe('idle')
    expect(low.threadNices.length).toBeGreaterThan(1)
    expect(new Set(low.threadNices)).toEqual(new Set([10]))
    const normal = await priorityWhileRunning(createFfmpegRunner({ logger }))
    expect(normal.nice).toBe(0)
    expect(normal.io).not.toBe('idle')
  })

  it('runs stream copies and ffprobe at the node\'s own CPU priority, their I/O class still idle', async () => {
    const ffprobePath = await priorityScript()
    try {
      const runner = createFfmpegRunner({ logger, priority: { nice: 10, ioIdle: true }, ffprobePath })
      const copy = await priorityWhileRunning(runner, { streamCopy: true })
      expect(copy.nice).toBe(0)
      expect(new Set(copy.threadNices)).toEqual(new Set([0]))
      expect(copy.io).toBe('idle')
      expect(await runner.probeJson(['-show_format', 'any.mkv'])).toEqual({ nice: 0, io: 'idle' })
    } finally {
      await fs.rm(path.dirname(ffprobePath), { recursive: true, force: true })
    }
  })

  it('still says FFMPEG_NOT_FOUND for a missing binary run through nice and ionice', async () => {
    const runner = createFfmpegRunner({
      ffmpegPath: '/nonexistent/ffmpeg',
      logger,
      priority: { nice: 10, ioIdle: true }
    })
    await expect(runner.run(['-version'])).rejects.toMatchObject({ code: ErrorCodes.FFMPEG_NOT_FOUND })
  })

  it('wraps only with the tools it found and the parts that lower anything', () => {
    expect(
      createPriorityLauncher({ nice: 0, ioIdle: false }, { nice: '/usr/bin/nice', ionice: '/usr/bin/ionice' }).command(
        'ffmpeg',
        ['-i', 'x']
      )
    ).toEqual({ file: 'ffmpeg', args: ['-i', 'x'], wrapped: false })
    expect(
      createPriorityLauncher({ nice: 5, ioIdle: true }, { nice: '/usr/bin/nice', ionice: null }).command('ffmpeg', [
        '-i',
        'x'
      ])
    ).toEqual({ file: '/usr/bin/nice', args: ['-n', '5', 'ffmpeg', '-i', 'x'], wrapped: true })
    const both = createPriorityLauncher({ nice: 10, ioIdle: true }, { nice: '/usr/bin/nice', ionice: '/usr/bin/ionice' })
    expect(both.command('ffprobe', ['x'], false)).toEqual({
      file: '/usr/bin/ionice',
      args: ['-c', '3', 'ffprobe', 'x'],
      wrapped: true
    })
    expect(createPriorityLauncher({ nice: 10, ioIdle: false }, { nice: '/usr/bin/nice', ionice: null }).command(
      'ffprobe',
      ['x'],
      false
    )).toEqual({ file: 'ffprobe', args: ['x'], wrapped: false })
    expect(findInPath('definitely-not-a-binary-ffm-ms')).toBeNull()
  })
})
