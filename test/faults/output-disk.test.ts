import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { JobStatus } from '@ffmesh/protocol'
import { makeClip, outputFiles } from '../helpers/faults-cluster.js'
import { ffmeshJson, makeDataDir, waitForJobEnd, waitUntil } from '../helpers/node-harness.js'
import { recordedNode, type RecordedNode } from '../helpers/recorded-node.js'
import { CAN_MOUNT, mountSmallDisk, NO_MOUNT_REASON, type SmallDisk } from '../helpers/tmpfs.js'

if (!CAN_MOUNT) console.warn(`test/faults/output-disk.test.ts: ${NO_MOUNT_REASON}`)

/** worker.minFreeDisk: the reserve kept on the data dir and on every output folder. */
const RESERVE_BYTES = 4 * 1024 * 1024

/**
 * An ffmpeg whose encodes wait while `<ctl>/hold` exists, saying so in `<ctl>/encoding`: the test
 * fills the output folder's disk while the job's units are still converting. Everything else is
 * the real ffmpeg.
 */
async function holdingFfmpeg (ctl: string): Promise<string> {
  const file = path.join(ctl, 'ffmpeg-holding')
  await fs.writeFile(file, `#!/bin/sh
for a in "$@"; do
  if [ "$a" = libx264 ] && [ -e "${ctl}/hold" ]; then
    touch "${ctl}/encoding"
    while [ -e "${ctl}/hold" ]; do sleep 0.05; done
  fi
done
exec ffmpeg "$@"
`, { mode: 0o755 })
  return file
}

describe.skipIf(!CAN_MOUNT)('fault scenario: a job\'s output folder on a disk that fills (a share apart from the data dir)', () => {
  let share: SmallDisk
  let ctl: string
  let roomy: string
  let dataDir: string
  let node: RecordedNode

  beforeAll(async () => {
    share = await mountSmallDisk('ffm-od-share-', 24)
    ctl = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-od-ctl-'))
    roomy = path.join(ctl, 'out')
    dataDir = await makeDataDir({
      slots: 1,
      segmentSeconds: 2,
      extra: {
        worker: { slots: 1, minFreeDisk: RESERVE_BYTES },
        ffmpeg: { ffmpegPath: await holdingFfmpeg(ctl) }
      }
    })
    node = recordedNode(dataDir)
  })

  let failed = false
  afterEach((ctx) => { failed ||= ctx.task.result?.state === 'fail' })
  afterAll(async () => {
    await fs.rm(path.join(ctl, 'hold'), { force: true })
    await node?.end(failed)
    await share.unmount()
    await fs.rm(ctl, { recursive: true, force: true })
  })

  const submit = async (name: string, variant: number, outDir: string): Promise<string> =>
    (
      await ffmeshJson<{ id: string }>(
        ['submit', await makeClip(ctl, name, 6, '320x240', variant), '--profile', 'h264', '--out', outDir],
        { dataDir }
      )
    ).id
  const status = (id: string): Promise<JobStatus> => ffmeshJson<JobStatus>(['status', id], { dataDir })

  it('holds only the jobs writing there, says which folder, and finishes them once space returns', async () => {
    await node.start()
    await fs.writeFile(path.join(ctl, 'hold'), '')
    const held = await submit('held.mp4', 1, share.dir)
    await waitUntil(() => fs.stat(path.join(ctl, 'encoding')).then(() => true, () => null), 'a unit to start converting')

    // The share fills while the job's first unit converts, long before it would assemble.
    await share.fill()
    const waiting = await waitUntil(async () => {
      const s = await status(held)
      expect(s.state, JSON.stringify(s.error)).not.toBe('failed')
      return s.waiting?.includes('disk is full') === true ? s : null
    }, 'the job to wait for space on its output folder')
    expect(waiting.waiting).toContain(`on ${share.dir} (the output folder)`)
    expect(waiting.state).toBe('running')
    // Events come over their own stream: this one may reach the test after the status did.
    const full = await waitUntil(async () => node.events.find(e => e.type === 'node:disk-full'), 'node:disk-full')
    expect(full.data).toMatchObject({ dir: share.dir, what: 'output folder' })

    // The data dir has room: a job writing elsewhere runs to the end meanwhile.
    await fs.rm(path.join(ctl, 'hold'))
    const other = await submit('other.mp4', 2, roomy)
    expect((await waitForJobEnd(dataDir, other)).state).toBe('done')
    expect(await outputFiles(roomy)).toHaveLength(1)
    const still = await status(held)
    expect(still.state).toBe('running')
    expect(still.waiting).toContain('(the output folder)')
    expect(await outputFiles(share.dir)).toEqual(['filler-1'])

    await share.free()
    const done = await waitForJobEnd(dataDir, held)
    expect(done.state, JSON.stringify(done.error)).toBe('done')
    expect(path.dirname(done.output as string)).toBe(share.dir)
    expect(await fs.stat(done.output as string).then(s => s.size)).toBeGreaterThan(0)
    await waitUntil(async () => node.events.some(e => e.type === 'node:disk-ok' && e.data?.dir === share.dir), 'node:disk-ok')
    // Held, not failed: no try was spent on the wait.
    expect(node.events.filter(e => e.type === 'unit:released' && e.data?.failure === true)).toEqual([])
  })
})
