import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import { promisify } from 'node:util'
import { ErrorCodes } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import { paced } from '../../../../test/helpers/pace.js'
import { createLogger } from '../logger.js'
import { createPriorityLauncher, findInPath } from './priority.js'
import { createFfmpegRunner } from './runner.js'

const run = promisify(execFile)
const logger = createLogger({ level: 'silent' })

/** The pid of the ffmpeg whose argv carries `marker`, once it has exec'd (argv[0] is ffmpeg). */
async function ffmpegWith (marker: string): Promise<number> {
  const deadline = Date.now() + paced(30_000)
  for (;;) {
    for (const entry of await fs.readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const argv = (await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0')
      if (/ffmpeg$/.test(argv[0] ?? '') && argv.includes(`comment=${marker}`)) return Number(entry)
    }
    if (Date.now() > deadline) throw new Error(`no ffmpeg with ${marker} appeared`)
    // A poll: nothing reports the moment the child (through nice and ionice) execs ffmpeg.
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
  const deadline = Date.now() + paced(30_000)
  for (;;) {
    const tids = await fs.readdir(`/proc/${pid}/task`)
    // Past the limit the one thread is returned, and the caller's check of the threads fails.
    if (tids.length > 1 || Date.now() > deadline) return tids
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Runs ffmpeg at real-time speed (-re) until aborted, and reports its priority while it runs. */
async function priorityWhileRunning (
  runner: ReturnType<typeof createFfmpegRunner>
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
    { signal: abort.signal }
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
    expect(findInPath('definitely-not-a-binary-ffm-ms')).toBeNull()
  })
})
