import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openGopTs } from '../../../../test/fixtures/media.js'
import { paced } from '../../../../test/helpers/pace.js'
import { createLogger } from '../logger.js'
import { concatInput } from './ffmpeg-args.js'
import { countFrames } from './probe.js'
import { checkFfmpeg, createFfmpegRunner } from './runner.js'

const logger = createLogger({ level: 'silent' })
/** Enough lavfi input to keep ffmpeg busy far longer than any test waits. */
const ENDLESS = ['-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=3600', '-f', 'null', '-']

/** ffmpeg processes whose parent is this test process. */
async function childFfmpegs (): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat)
      if (m?.[1] === 'ffmpeg' && Number(m[2]) === process.pid) pids.push(Number(entry))
    } catch { /* the process ended while we looked */ }
  }
  return pids
}

async function untilProgress (started: Promise<void>): Promise<void> {
  await started
}

describe('ffmpeg runner', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffmesh-runner-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('fails with FFMPEG_NOT_FOUND naming a missing binary', async () => {
    const runner = createFfmpegRunner({
      ffmpegPath: '/nonexistent/ffmpeg',
      ffprobePath: '/nonexistent/ffprobe',
      logger
    })
    await expect(checkFfmpeg(runner)).rejects.toMatchObject({ code: 'FFMPEG_NOT_FOUND' })
    await expect(runner.run(['-version'])).rejects.toMatchObject({ code: 'FFMPEG_NOT_FOUND' })
    await expect(runner.probeJson(['-show_program_version'])).rejects.toMatchObject({ code: 'FFMPEG_NOT_FOUND' })
    const good = createFfmpegRunner({ logger })
    await expect(checkFfmpeg(good)).resolves.toBeUndefined()
  })

  it('lists the encoders ffmpeg offers, once', async () => {
    const runner = createFfmpegRunner({ logger })
    const encoders = await runner.encoders()
    for (const name of [
      'libx264',
      'libx265',
      'libsvtav1',
      'libvpx-vp9',
      'aac',
      'libopus',
      'libmp3lame',
      'flac',
      'libwebp'
    ])
      expect(encoders.has(name)).toBe(true)
    expect(encoders.has('=')).toBe(false)
    expect(await runner.encoders()).toBe(encoders)
  })

  it('lists the filters ffmpeg offers, once, apart from its encoders', async () => {
    const runner = createFfmpegRunner({ logger })
    const filters = await runner.filters()
    for (const name of ['bwdif', 'zscale', 'tonemap', 'select', 'crop', 'scale', 'format']) expect(filters.has(name)).toBe(true)
    expect(filters.has('libx264')).toBe(false)
    expect(await runner.filters()).toBe(filters)
    expect((await runner.encoders()).has('zscale')).toBe(false)
  })

  it('reports progress and the exit of a successful run', async () => {
    const runner = createFfmpegRunner({ logger })
    const seen: Array<{ outTimeSec: number, frame: number }> = []
    const out = join(dir, 'progress.mkv')
    await runner.run(
      [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=160x120:r=25:d=2',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-f',
        'matroska',
        `file:${out}`
      ],
      { onProgress: p => seen.push(p) }
    )
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.at(-1)?.frame).toBe(50)
    expect(seen.at(-1)?.outTimeSec).toBeGreaterThan(1.9)
    expect((await countFrames(runner, out)).frames).toBe(50)
  })

  it('turns a failing run into CONVERT_FAILED with the last stderr lines', async () => {
    const runner = createFfmpegRunner({ logger })
    const err = await runner
      .run(['-protocol_whitelist', 'file', '-i', `file:${join(dir, 'missing.mkv')}`, '-f', 'null', '-'])
      .catch(e => e)
    expect(err).toMatchObject({ code: 'CONVERT_FAILED' })
    expect(String(err.details.stderr)).toMatch(/No such file/)
  })

  it('leaves SVT-AV1\'s banner out of the reason, so the error itself fits in it', async () => {
    const runner = createFfmpegRunner({ logger })
    // The AV1 encoder opens (and prints its banner) before libopus refuses a layout it has no mapping for.
    const err = await runner
      .run([
        '-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=1', '-f', 'lavfi', '-i', 'sine=d=1',
        '-filter_complex', '[1:a]pan=5.1(side)|FL=c0|FR=c0|FC=c0|LFE=c0|SL=c0|SR=c0[a]',
        '-map', '0:v', '-map', '[a]', '-c:v', 'libsvtav1', '-c:a', 'libopus', '-f', 'matroska', '-'
      ])
      .catch(e => e)
    expect(err).toMatchObject({ code: 'CONVERT_FAILED' })
    expect(String(err.details.stderr)).not.toMatch(/Svt\[info\]/)
    // What a worker sends its owner: the first 500 characters.
    expect(String(err.message).slice(0, 500)).toMatch(/Invalid channel layout 5\.1\(side\)/)
  })

  it('counts the packets ffmpeg reads when asked, and still gives only the errors as a reason', async () => {
    const runner = createFfmpegRunner({ logger })
    const ts = await openGopTs(dir)
    const { packetsRead } = await runner.run(['-i', `file:${ts}`, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'], {
      countPackets: true
    })
    expect(packetsRead.get(0)).toBe((await countFrames(runner, ts)).frames)
    expect(
      (await runner.run(['-i', `file:${ts}`, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'])).packetsRead.size
    ).toBe(0)
    const err = await runner
      .run(['-protocol_whitelist', 'file', '-i', `file:${join(dir, 'missing.mkv')}`, '-f', 'null', '-'], {
        countPackets: true
      })
      .catch(e => e)
    expect(err).toMatchObject({ code: 'CONVERT_FAILED' })
    expect(String(err.details.stderr)).toMatch(/^file:.*missing\.mkv: No such file or directory$/)
  })

  it('kills its child on abort and leaves no ffmpeg behind', async () => {
    const runner = createFfmpegRunner({ logger })
    const controller = new AbortController()
    let started!: () => void
    const running = new Promise<void>(resolve => { started = resolve })
    const run = runner.run(ENDLESS, { signal: controller.signal, onProgress: () => started() })
    await untilProgress(running)
    expect((await childFfmpegs()).length).toBe(1)
    controller.abort()
    await expect(run).rejects.toMatchObject({ name: 'AbortError' })
    expect(await childFfmpegs()).toEqual([])
  })

  it('stops a run that takes too long with CONVERT_TIMEOUT', async () => {
    const runner = createFfmpegRunner({ logger })
    const started = Date.now()
    await expect(runner.run(ENDLESS, { timeoutMs: 700 })).rejects.toMatchObject({ code: 'CONVERT_TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(paced(10_000))
    expect(await childFfmpegs()).toEqual([])
  })

  it('waits out a time limit longer than setTimeout can hold instead of stopping the run at once', async () => {
    // A whole-file unit's limit follows its duration: a TS header claiming 26 h asks for 2^32 ms.
    const runner = createFfmpegRunner({ logger })
    await expect(
      runner.run(['-f', 'lavfi', '-i', 'testsrc2=s=64x64:d=0.5', '-f', 'null', '-'], { timeoutMs: 2 ** 32 })
    ).resolves.toMatchObject({ dtsRaised: [] })
  })

  it('killAll stops every running child', async () => {
    const runner = createFfmpegRunner({ logger })
    const runs = [runner.run(ENDLESS).catch(e => e), runner.run(ENDLESS).catch(e => e)]
    // A poll: nothing reports the moment each child execs ffmpeg (before, it is a copy of node).
    const deadline = performance.now() + paced(10_000)
    while ((await childFfmpegs()).length < 2) {
      if (performance.now() > deadline) throw new Error('the two ffmpeg children never both started')
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    expect((await childFfmpegs()).length).toBe(2)
    await runner.killAll()
    expect(await childFfmpegs()).toEqual([])
    for (const result of await Promise.all(runs)) expect(result).toMatchObject({ code: 'CONVERT_FAILED' })
  })

  it('streams files into stdin in order', async () => {
    const runner = createFfmpegRunner({ logger })
    const ts = await openGopTs(dir)
    const out = join(dir, 'twice.mkv')
    // The same TS twice is a valid TS with every packet twice: stdin carried both files.
    await runner.run(['-f', 'mpegts', '-i', 'pipe:0', '-map', '0:v:0', '-c', 'copy', '-f', 'matroska', `file:${out}`], {
      stdin: [ts, ts]
    })
    const once = await countFrames(runner, ts)
    expect((await countFrames(runner, out)).frames).toBe(once.frames * 2)
  })

  it.each([
    ['piece.ts', 'concat:'],
    ['a|b.ts', 'pipe:0']
  ])('reads TS files as one input with concatInput (%s through %s)', async (name, via) => {
    const runner = createFfmpegRunner({ logger })
    const ts = join(dir, name)
    await copyFile(await openGopTs(dir), ts)
    const input = concatInput([ts, ts], 'mpegts')
    expect(input.args.filter(a => a.startsWith(via))).toHaveLength(1)
    const out = join(dir, `twice-${via.slice(0, 4)}.mkv`)
    await runner.run([...input.args, '-map', '0:v:0', '-c', 'copy', '-f', 'matroska', `file:${out}`], {
      stdin: input.stdin
    })
    const once = await countFrames(runner, ts)
    expect((await countFrames(runner, out)).frames).toBe(once.frames * 2)
  })
})
