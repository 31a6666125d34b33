import fs from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ErrorCodes, newJobId } from '@ffmesh/protocol'
import { dataPaths } from '../packages/node/src/config/paths.js'
import { recoveryDrops } from '../packages/node/src/store/log-db.js'
import type { JobStore } from '../packages/node/src/store/job-store.js'
import { jobRecord, openTestStore, unitRecord } from './fixtures/job-log.js'
import { waitUntil } from './helpers/node-harness.js'
import { CAN_MOUNT, mountSmallDisk, NO_MOUNT_REASON, type SmallDisk } from './helpers/tmpfs.js'

if (!CAN_MOUNT) console.warn(`test/job-log-full-disk.test.ts: ${NO_MOUNT_REASON}`)

/**
 * The job log on a real full disk (a 16 MiB tmpfs). LevelDB goes on appending after a write that
 * failed midway, and the torn record then hides every later record in its block at the next open;
 * these are the checks that the log never lets that happen and never loses an acknowledged record.
 */
describe.skipIf(!CAN_MOUNT)('job log on a full disk', () => {
  let disk: SmallDisk | undefined
  let store: JobStore | undefined
  afterEach(async () => {
    await store?.close().catch(() => {})
    store = undefined
    await disk?.unmount()
    disk = undefined
  })

  it('refuses new work at the floor, lets essential records use the reserve, reopens after a failed write, and loses nothing acknowledged', async () => {
    disk = await mountSmallDisk('ffm-fd-log-', 16)
    const root = disk.dir
    store = await openTestStore(root)
    const acknowledged = new Map<string, number>()
    const addJob = async (s: JobStore): Promise<string> => {
      const id = newJobId()
      await s.append(id, { type: 'job:submitted', job: jobRecord(id) })
      await s.append(id, {
        type: 'job:planned',
        sourceHash: 'b'.repeat(128),
        units: [unitRecord(id, 0), unitRecord(id, 1)]
      })
      await s.append(id, { type: 'unit:leased', index: 0, worker: 'w1', attempt: 1, leaseUntil: 99 })
      acknowledged.set(id, 3)
      return id
    }
    const verify = async (s: JobStore, id: string): Promise<void> => {
      await s.append(id, {
        type: 'unit:verified',
        index: 0,
        worker: 'w1',
        attempt: 1,
        result: { hash: 'c'.repeat(128), size: 5, frames: 144, durationSec: 6 }
      })
      acknowledged.set(id, (acknowledged.get(id) ?? 0) + 1)
    }
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push(await addJob(store))
    expect(await fs.stat(dataPaths(root).logReserve).then(s => s.size)).toBeGreaterThan(0)

    await disk.fill()
    // New work is refused before it reaches LevelDB.
    const refused = await addJob(store).then(
      () => null,
      (e: { code?: string }) => e.code
    )
    expect(refused).toBe(ErrorCodes.DISK_FULL)
    // A record of work already done uses the reserve.
    await verify(store, ids[0] as string)
    expect(
      await fs.stat(dataPaths(root).logReserve).then(
        () => true,
        () => false
      )
    ).toBe(false)

    // Something else takes the reserve's room too: now LevelDB itself meets ENOSPC.
    await disk.fill()
    const failed = await verify(store, ids[1] as string).then(
      () => null,
      (e: { code?: string }) => e.code
    )
    expect(failed).toBe(ErrorCodes.DISK_FULL)
    expect(store.problem()?.code).toBe(ErrorCodes.DISK_FULL)
    // Every later write is refused too, never appended behind a torn record.
    expect(
      await verify(store, ids[2] as string).then(
        () => null,
        (e: { code?: string }) => e.code
      )
    ).toBe(ErrorCodes.DISK_FULL)

    await disk.free()
    const s = store
    await waitUntil(async () => s.problem() == null, 'the job log to reopen once space returned', 30_000)
    for (let i = 0; i < 3; i++) ids.push(await addJob(store))
    for (const id of ids.slice(1)) await verify(store, id)
    await store.close()
    store = undefined

    const drops = await recoveryDrops(dataPaths(root).db)
    store = await openTestStore(root)
    expect(store.opened.intact).toBe(true)
    expect(drops.count).toBe(0)
    expect((await recoveryDrops(dataPaths(root).db)).count).toBe(0)
    for (const [id, events] of acknowledged) {
      expect(store.job(id)?.job.eventCount, `job ${id}`).toBeGreaterThanOrEqual(events)
      expect((await store.history(id)).length).toBe(store.job(id)?.job.eventCount)
    }
    expect(store.job(ids[0] as string)?.units[0]?.state).toBe('verified')
    // The reserve is whole again once there is room.
    expect((await fs.stat(dataPaths(root).logReserve)).size).toBeGreaterThan(0)
    expect(await fs.readdir(root)).toEqual(expect.arrayContaining([path.basename(dataPaths(root).logMarker)]))
  })
})
