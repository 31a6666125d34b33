import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, ErrorCodes, type Profile } from '@ffmesh/protocol'
import { createLogger } from '../packages/node/src/logger.js'
import { planSource } from '../packages/node/src/media/plan.js'
import { probeSource } from '../packages/node/src/media/probe.js'
import { createFfmpegRunner } from '../packages/node/src/media/runner.js'
import { makeSample } from './fixtures/media.js'
import { packetCount } from './fixtures/media-truth.js'
import { CAN_MOUNT, mountSmallDisk, NO_MOUNT_REASON, type SmallDisk } from './helpers/tmpfs.js'

if (!CAN_MOUNT) console.warn(`test/media-full-disk.test.ts: ${NO_MOUNT_REASON}`)

const h264 = DEFAULT_PROFILES.find(p => p.name === 'h264') as Profile
const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })

/**
 * ffmpeg on a real full disk (a tmpfs): 5.1 prints "No space left on device" and may still exit 0,
 * leaving an empty or cut-short file. Taken at its word, a cut on a full disk planned a whole unit
 * that expected 0 frames, and every conversion of it then failed its check.
 */
describe.skipIf(!CAN_MOUNT)('ffmpeg on a full disk', () => {
  let disk: SmallDisk
  let srcDir: string
  let source: string
  beforeAll(async () => {
    srcDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-media-full-'))
    source = await makeSample('openGopTs', srcDir)
    disk = await mountSmallDisk('ffm-media-disk-', 4)
  })
  afterAll(async () => {
    await disk.unmount()
    await fs.rm(srcDir, { recursive: true, force: true })
  })

  it('fails a run whose output could not be written with DISK_FULL, though ffmpeg exits 0', async () => {
    await disk.fill()
    const list = path.join(disk.dir, 'packets.crc')
    const err = await runner
      .run(['-i', `file:${source}`, '-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', `file:${list}`])
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: ErrorCodes.DISK_FULL, details: { exitCode: 0 } })
    expect(String((err as Error).message)).toMatch(/No space left on device/)
    await disk.free()
  })

  it('makes no plan while the work dir is full, and the right one once there is space', async () => {
    const info = await probeSource(runner, source)
    const workDir = path.join(disk.dir, 'work')
    await fs.mkdir(workDir, { recursive: true })
    await disk.fill()
    const err = await planSource(runner, { source, info, profile: h264, segmentSeconds: 2, workDir }).catch(
      (e: unknown) => e
    )
    expect(err).toMatchObject({ code: ErrorCodes.DISK_FULL })
    await disk.free()

    const plan = await planSource(runner, { source, info, profile: h264, segmentSeconds: 2, workDir })
    const segments = plan.units.filter(u => u.kind === 'segment')
    expect(segments.length).toBeGreaterThan(1)
    const frames = await packetCount(source, info.videoStreamIndex as number)
    expect(plan.videoFrames).toBe(frames)
    expect(segments.reduce((n, u) => n + (u.expectedFrames ?? 0), 0)).toBe(frames)
  })
})
