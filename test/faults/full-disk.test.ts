import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes, type JobStatus } from '@ffmesh/protocol'
import { dataPaths } from '../../packages/node/src/config/paths.js'
import { recoveryDrops } from '../../packages/node/src/store/log-db.js'
import { makeClip, outputFiles } from '../helpers/faults-cluster.js'
import { ffmesh, ffmeshJson, makeDataDir, waitForJobEnd, waitUntil } from '../helpers/node-harness.js'
import { recordedNode, type RecordedNode } from '../helpers/recorded-node.js'
import { CAN_MOUNT, mountSmallDisk, NO_MOUNT_REASON, type SmallDisk } from '../helpers/tmpfs.js'

if (!CAN_MOUNT) console.warn(`test/faults/full-disk.test.ts: ${NO_MOUNT_REASON}`)

/** The node's disk: small enough to fill in an instant, with room for the reserve, the log and five jobs. */
const DISK_MIB = 48
/** worker.minFreeDisk for this disk: the node holds below 6 MiB. */
const RESERVE_BYTES = 6 * 1024 * 1024
const STEPS = ['cut', 'converting', 'assemble', 'result'] as const
type Step = typeof STEPS[number] | 'held'

/**
 * An ffmpeg that fills the disk at one step of a job, named in `<ctl>/fill-at`, once: as the cut
 * starts, while a unit converts (once its output has bytes), as the assembly starts, or right after
 * a unit converted (so its result arrives on a full disk). Everything else is the real ffmpeg.
 */
async function fillingFfmpeg (ctl: string, disk: string): Promise<string> {
  const file = path.join(ctl, 'ffmpeg-filling')
  await fs.writeFile(file, `#!/bin/sh
step=""
for a in "$@"; do
  case "$a" in
    -segment_times) step=cut ;;
    *.partial.*) step=assemble ;;
    libx264) [ -z "$step" ] && step=encode ;;
  esac
done
for out in "$@"; do :; done
out=\${out#file:}
fill () {
  dd if=/dev/zero of="${disk}/filler-$$" bs=1M 2>/dev/null
  dd if=/dev/zero of="${disk}/filler-$$-tail" bs=4k 2>/dev/null
  touch "${ctl}/filled-$1"
}
want=$(cat "${ctl}/fill-at" 2>/dev/null)
if [ -z "$step" ] || [ -z "$want" ]; then exec ffmpeg "$@"; fi
if [ "$step" = "$want" ]; then rm -f "${ctl}/fill-at"; fill "$want"; exec ffmpeg "$@"; fi
if [ "$step" = encode ] && [ "$want" = converting ]; then
  rm -f "${ctl}/fill-at"
  ffmpeg "$@" & pid=$!
  i=0; while [ $i -lt 200 ] && [ ! -s "$out" ]; do sleep 0.05; i=$((i+1)); done
  fill converting
  wait $pid; exit $?
fi
if [ "$step" = encode ] && [ "$want" = result ]; then
  rm -f "${ctl}/fill-at"
  ffmpeg "$@"; rc=$?
  fill result
  exit $rc
fi
exec ffmpeg "$@"
`, { mode: 0o755 })
  return file
}

describe.skipIf(!CAN_MOUNT)('fault scenario: the data dir on a small disk that fills', () => {
  let disk: SmallDisk
  let ctl: string
  let dataDir: string
  let outDir: string
  let node: RecordedNode

  beforeAll(async () => {
    disk = await mountSmallDisk('ffm-fd-disk-', DISK_MIB)
    ctl = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-fd-ctl-'))
    outDir = path.join(disk.dir, 'out')
    dataDir = await makeDataDir({
      dir: path.join(disk.dir, 'data'),
      slots: 1,
      segmentSeconds: 2,
      extra: {
        log: { level: 'info' },
        worker: { slots: 1, minFreeDisk: RESERVE_BYTES },
        ffmpeg: { ffmpegPath: await fillingFfmpeg(ctl, disk.dir) }
      }
    })
    node = recordedNode(dataDir)
  })

  let failed = false
  afterEach((ctx) => { failed ||= ctx.task.result?.state === 'fail' })
  afterAll(async () => {
    await node?.end(failed)
    await disk.unmount()
    await fs.rm(ctl, { recursive: true, force: true })
  })

  const submit = async (name: string, variant: number): Promise<string> =>
    (
      await ffmeshJson<{ id: string }>(
        ['submit', await makeClip(ctl, name, 8, '320x240', variant), '--profile', 'h264', '--out', outDir],
        { dataDir }
      )
    ).id
  const status = (id: string): Promise<JobStatus> => ffmeshJson<JobStatus>(['status', id], { dataDir })
  const all = async (): Promise<JobStatus[]> => await ffmeshJson<JobStatus[]>(['status'], { dataDir })
  const arm = (step: Step): Promise<void> =>
    fs.writeFile(path.join(ctl, 'fill-at'), step === 'held' ? 'converting' : step)
  const filled = (step: string): Promise<true | null> =>
    fs.stat(path.join(ctl, `filled-${step}`)).then(
      () => true,
      () => null
    )

  /** The job waits, saying why, and spends nothing; the node said its disk is full. */
  async function expectHeld (id: string, what: string): Promise<void> {
    await waitUntil(async () => {
      const s = await status(id)
      expect(s.state, `${what}: ${JSON.stringify(s.error)}`).not.toBe('failed')
      // What a person reads: "this node's disk is full: 0 B free on … (the data dir), reserve 6.0 MiB".
      return s.waiting?.includes('disk is full') === true && node.events.some(e => e.type === 'node:disk-full') ? s : null
    }, `job ${id} to wait for disk space (${what})`, 60_000)
  }

  /** Every job as it was, the log whole, and LevelDB's recovery without a dropped byte. */
  async function expectSameJobs (before: JobStatus[]): Promise<void> {
    const after = await all()
    expect(after.map(j => j.id).sort()).toEqual(before.map(j => j.id).sort())
    for (const b of before.filter(j => ['done', 'failed', 'cancelled'].includes(j.state))) {
      expect(after.find(j => j.id === b.id), b.id).toMatchObject({ state: b.state, output: b.output })
    }
    expect((await recoveryDrops(dataPaths(dataDir).db)).count).toBe(0)
    expect(node.process().log()).not.toMatch(/lost records|was not intact|dropped bytes/)
  }

  it('refuses submits, holds every step without spending attempts, goes on when space returns, and loses nothing across SIGTERM and kill -9', async () => {
    await node.start()

    // Below the reserve before a submit (5 MiB free of the 6 MiB kept, so the job log itself
    // would still take it): refused with a code and a non-zero exit, nothing logged as a job.
    await disk.fill({ leave: 5 * 1024 * 1024 })
    const below = await ffmesh(
      ['submit', await makeClip(ctl, 'below.mp4', 8, '320x240', 8), '--profile', 'h264', '--out', outDir, '--json'],
      { dataDir }
    )
    expect(below.code).not.toBe(0)
    expect((JSON.parse(below.stdout) as { error: { code: string } }).error.code).toBe(ErrorCodes.DISK_FULL)
    await disk.free()
    // Full to the last byte: the same.
    await disk.fill()
    const refused = await ffmesh(
      ['submit', await makeClip(ctl, 'refused.mp4', 8, '320x240', 9), '--profile', 'h264', '--out', outDir, '--json'],
      { dataDir }
    )
    expect(refused.code).not.toBe(0)
    expect((JSON.parse(refused.stdout) as { error: { code: string } }).error.code).toBe(ErrorCodes.DISK_FULL)
    const plain = await ffmesh(
      ['submit', await makeClip(ctl, 'refused.mp4', 8, '320x240', 9), '--profile', 'h264', '--out', outDir],
      { dataDir }
    )
    expect(plain.code).not.toBe(0)
    expect(plain.stderr).toContain(`error ${ErrorCodes.DISK_FULL}:`)
    expect(await all()).toEqual([])
    await disk.free()

    // Full during the cut, while a unit converts, during the assembly, and as a result arrives.
    const ids: string[] = []
    for (const [i, step] of STEPS.entries()) {
      await arm(step)
      const id = await submit(`${step}.mp4`, i)
      ids.push(id)
      await waitUntil(() => filled(step), `the disk to fill (${step})`, 120_000)
      await expectHeld(id, step)
      await disk.free()
      const done = await waitForJobEnd(dataDir, id)
      expect(done.state, `${step}: ${JSON.stringify(done.error)}`).toBe('done')
    }

    // Stopped with SIGTERM while a job is held on a full disk; started again once space is back.
    await arm('held')
    const held = await submit('held.mp4', 7)
    ids.push(held)
    await waitUntil(() => filled('converting'), 'the disk to fill while a unit converts', 120_000)
    await expectHeld(held, 'held at SIGTERM')
    const beforeTerm = await all()
    expect((await node.stop('SIGTERM')).code).toBe(0)
    await disk.free()
    await node.start()
    await expectSameJobs(beforeTerm)
    expect((await waitForJobEnd(dataDir, held)).state).toBe('done')

    // kill -9 on a full disk, started again once space is back.
    await disk.fill()
    await waitUntil(
      async () => node.events.filter(e => e.type === 'node:disk-full').length >= STEPS.length + 2,
      'the node to see its disk full',
      30_000
    )
    const beforeKill = await all()
    expect((await node.stop('SIGKILL')).signal).toBe('SIGKILL')
    await disk.free()
    await node.start()
    await expectSameJobs(beforeKill)

    // Every job done with exactly one output; no unit verified twice or failed for want of space.
    const final = await all()
    expect(final.map(j => j.state)).toEqual(ids.map(() => 'done'))
    expect(await outputFiles(outDir)).toHaveLength(ids.length)
    for (const j of final) expect(await fs.stat(j.output as string).then(s => s.size)).toBeGreaterThan(0)
    const verified = new Map<string, number>()
    for (const e of node.events.filter(e => e.type === 'unit:verified')) {
      verified.set(`${e.jobId}:${e.index}`, (verified.get(`${e.jobId}:${e.index}`) ?? 0) + 1)
    }
    expect([...verified.values()].filter(n => n > 1)).toEqual([])
    expect(node.events.filter(e => e.type === 'unit:released' && e.data?.failure === true)).toEqual([])
    const log = node.log()
    expect(log.match(/owner tick failed/g)?.length ?? 0).toBeLessThanOrEqual(STEPS.length + 2)
  })
})
