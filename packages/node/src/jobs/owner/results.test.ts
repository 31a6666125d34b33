import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, FfmeshError, type ErrorBody } from '@ffmesh/protocol'
import { OWNER_PEER as OWNER, plannedJob, useTempJobStores } from '../../../../../test/fixtures/job-log.js'
import { createEventBus } from '../../events.js'
import { ffmpeg } from '../../../../../test/fixtures/media.js'
import { createLogger } from '../../logger.js'
import { createFfmpegRunner, measureResult, type UnitMeasure } from '../../media/index.js'
import type { JobComponents } from '../shared/deps.js'
import { createLeases } from './lease.js'
import { createOwnerState } from './owner-state.js'
import { createQuarantine } from './quarantine.js'
import { acceptUnitResult, screenUnitResult, type ResultParts } from './results.js'

const WORKER = '12D3KooWLZd1ovTLzMaBH93PVtzD7HU5cycoXRwWNJEwneGoPj5G'
const temp = useTempJobStores('ffmesh-results-')

/**
 * An owner's job with unit 0 leased to WORKER, a real job log, and a stand-in probe. Only what
 * acceptUnitResult touches is real or stood in; importing a result is not reached in these cases.
 */
async function ownerWithLeasedUnit (measure: (file: string) => Promise<UnitMeasure>) {
  const dir = await temp.tempDir()
  const store = await temp.open(dir)
  const id = await plannedJob(store, 1)
  /** The data dir as the disk monitor last measured it. */
  const disk = { full: false, free: 10e9, reserve: 1e9, dir, what: 'data dir' }
  await store.append(id, { type: 'unit:leased', index: 0, worker: WORKER, attempt: 1, leaseUntil: Date.now() + 60_000 })
  const c = {
    store,
    mesh: { peerId: OWNER },
    clock: Date.now,
    config: { jobs: { leaseSeconds: 30 } },
    events: createEventBus(),
    logger: createLogger({ level: 'silent' }),
    media: { measureOutput: measure },
    disk: { dataDir: () => disk },
    bus: { publish: async () => {} }
  } as unknown as JobComponents
  const released: ErrorBody[] = []
  c.events.on(e => { if (e.type === 'unit:released') released.push(e.data as unknown as ErrorBody) })
  const rt = createOwnerState()
  const quarantine = createQuarantine({ durationMs: 60_000, clock: Date.now })
  const parts: ResultParts = { rt, leases: createLeases(c, { rt, quarantine, log: c.logger }) }
  const file = path.join(dir, 'result.mkv')
  await fs.writeFile(file, 'not media')
  const push = { jobId: id, index: 0, attempt: 1, hash: 'c'.repeat(128), size: 9, frames: 144, durationSec: 6 }
  /** The result arriving from WORKER. */
  const accept = () => acceptUnitResult(c, parts, { peer: WORKER, push, tmpFile: file })
  /** What the owner answers from the push's header alone, from `peer`. */
  const screen = (peer = WORKER) => screenUnitResult(c, parts, peer, push)
  return { store, id, rt, accept, screen, disk, released, file }
}

describe('accepting a unit result', () => {
  it('releases the unit as VERIFY_FAILED when ffprobe read the file and found no media', async () => {
    const o = await ownerWithLeasedUnit(async () => {
      throw new FfmeshError(ErrorCodes.CONVERT_FAILED, 'ffprobe exited with 1: Invalid data', {
        exitCode: 1,
        stderr: 'Invalid data'
      })
    })
    const ack = await o.accept()
    expect(ack).toMatchObject({ ok: false, code: 'BAD_REQUEST' })
    expect(o.released).toMatchObject([{ code: ErrorCodes.VERIFY_FAILED }])
  })

  it('answers BUSY and keeps the lease when its own probe was killed before it could read the file', async () => {
    // What a node's shutdown does to a probe under way: the child ends by a signal, with no exit code.
    const o = await ownerWithLeasedUnit(async () => {
      throw new FfmeshError(ErrorCodes.CONVERT_FAILED, 'ffprobe exited with SIGTERM', { exitCode: null, stderr: '' })
    })
    const ack = await o.accept()
    expect(ack).toMatchObject({ ok: false, code: 'BUSY' })
    expect(o.released).toEqual([])
    expect(o.store.job(o.id)?.units[0]).toMatchObject({ worker: WORKER, attempts: 1, failures: 0 })
  })

  it('answers BUSY without checking once the owner is stopping', async () => {
    let probes = 0
    const o = await ownerWithLeasedUnit(async () => { probes++; return { frames: 144, durationSec: 6, startSec: 0 } })
    o.rt.stopping = true
    const ack = await o.accept()
    expect(ack).toMatchObject({ ok: false, code: 'BUSY' })
    expect(probes).toBe(0)
    expect(o.released).toEqual([])
    expect(o.store.job(o.id)?.units[0]?.state).toBe('leased')
  })

  it('answers from the header alone a push it would refuse, and lets the leased worker\'s result through', async () => {
    let probes = 0
    const o = await ownerWithLeasedUnit(async () => { probes++; return { frames: 144, durationSec: 6, startSec: 0 } })
    expect(await o.screen()).toBeNull()
    const stranger = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
    expect(await o.screen(stranger)).toMatchObject({ ok: false, code: 'NOT_GRANTED' })
    // Below the reserve the result waits on the worker, whole, while the owner holds the job.
    Object.assign(o.disk, { full: true, free: 0.5e9 })
    expect(await o.screen()).toMatchObject({ ok: false, code: 'BUSY' })
    expect(probes).toBe(0)
    expect(o.store.job(o.id)?.units[0]).toMatchObject({ state: 'leased', worker: WORKER, failures: 0 })
  })

  it('refuses a real result with a frame missing, or cut short, as the node measures it', async () => {
    const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
    const measure = async (file: string): Promise<UnitMeasure> => await measureResult(runner, file, 'segment')
    // The plan expects 144 frames (6 s at 24 fps); the worker claims 144 but returns 143.
    const short = await ownerWithLeasedUnit(measure)
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=24', '-frames:v', '143', '-c:v', 'libx264', '-preset',
      'ultrafast', '-f', 'matroska', short.file])
    const ack = await short.accept()
    expect(ack).toMatchObject({ ok: false, code: 'BAD_REQUEST' })
    expect(short.released).toMatchObject([{ code: ErrorCodes.VERIFY_FAILED }])
    // All 144 frames, but the file ends 40 bytes early.
    const cut = await ownerWithLeasedUnit(measure)
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=24', '-frames:v', '144', '-c:v', 'libx264', '-preset',
      'ultrafast', '-f', 'matroska', cut.file])
    expect((await measure(cut.file)).frames).toBe(144)
    await fs.truncate(cut.file, (await fs.stat(cut.file)).size - 40)
    const refused = await cut.accept()
    expect(refused).toMatchObject({ ok: false, code: 'BAD_REQUEST' })
    expect(cut.released).toMatchObject([{ code: ErrorCodes.VERIFY_FAILED }])
  })
})
