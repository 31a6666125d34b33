import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, newJobId } from '@ffmesh/protocol'
import {
  jobRecord as job,
  openTestStore,
  plannedJob,
  unitRecord as unit,
  useTempJobStores
} from '../../../../test/fixtures/job-log.js'
import { dataPaths } from '../config/paths.js'
import type { JobStore } from './job-store.js'

const temp = useTempJobStores('ffm-fd-log-')

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (e: { code?: string }) => e.code
  )

/** A job with `units` planned units, one of them verified. */
async function addJob (store: JobStore, units = 2): Promise<string> {
  const id = await plannedJob(store, units)
  await store.append(id, { type: 'unit:leased', index: 0, worker: 'w1', attempt: 1, leaseUntil: 99 })
  await store.append(id, {
    type: 'unit:verified',
    index: 0,
    worker: 'w1',
    attempt: 1,
    result: { hash: 'c'.repeat(128), size: 5, frames: 144, durationSec: 6 }
  })
  return id
}

/** The write-ahead log of a closed store: LevelDB's one `NNNNNN.log` file. */
async function walOf (root: string): Promise<string> {
  const db = dataPaths(root).db
  const wal = (await fs.readdir(db)).filter(n => n.endsWith('.log')).sort().at(-1)
  if (wal == null) throw new Error(`no write-ahead log in ${db}`)
  return path.join(db, wal)
}

describe('job log damage', () => {
  it('refuses a log whose CURRENT file is gone with STORE_CORRUPT, instead of starting an empty one', async () => {
    const root = await temp.tempDir()
    const store = await openTestStore(root)
    await addJob(store)
    await store.close()
    await fs.rm(path.join(dataPaths(root).db, 'CURRENT'))
    expect(await codeOf(openTestStore(root))).toBe(ErrorCodes.STORE_CORRUPT)
    // Nothing was made in its place.
    expect(await fs.stat(path.join(dataPaths(root).db, 'CURRENT')).then(() => true, () => false)).toBe(false)
  })

  it('refuses a log that was replaced by an empty one or by another data dir\'s', async () => {
    const root = await temp.tempDir()
    const store = await openTestStore(root)
    await addJob(store)
    await store.close()
    await fs.rm(dataPaths(root).db, { recursive: true })
    expect(await codeOf(openTestStore(root))).toBe(ErrorCodes.STORE_CORRUPT)

    const other = await temp.tempDir()
    await (await openTestStore(other)).close()
    await fs.rm(dataPaths(root).db, { recursive: true, force: true })
    await fs.cp(dataPaths(other).db, dataPaths(root).db, { recursive: true })
    expect(await codeOf(openTestStore(root))).toBe(ErrorCodes.STORE_CORRUPT)
  })

  it('refuses a log whose write-ahead log was cut short, though LevelDB itself reads it without a word', async () => {
    const root = await temp.tempDir()
    const store = await openTestStore(root)
    for (let i = 0; i < 3; i++) await addJob(store)
    await store.close()
    const wal = await walOf(root)
    const { size } = await fs.stat(wal)
    await fs.truncate(wal, Math.floor(size / 2))
    expect(await codeOf(openTestStore(root))).toBe(ErrorCodes.STORE_CORRUPT)
  })

  it('holds the jobs whose records LevelDB dropped while recovering, says so once, and keeps them held', async () => {
    const root = await temp.tempDir()
    const store = await openTestStore(root)
    // Plans of 120 units fill several 32 KiB blocks of the write-ahead log.
    const first = await addJob(store, 120)
    const second = await addJob(store, 120)
    const third = await addJob(store, 120)
    await store.close()
    const wal = await walOf(root)
    const bytes = await fs.readFile(wal)
    // A torn record in the first block: LevelDB drops the rest of that block and reads on.
    bytes[2_000] ^= 0xff
    await fs.writeFile(wal, bytes)

    const reopened = await temp.open(root)
    expect(reopened.opened.intact).toBe(false)
    expect(reopened.opened.drops.count).toBeGreaterThan(0)
    expect(reopened.opened.damage.lostSeqs.length).toBeGreaterThan(0)
    // Every job that survived and could have lost records is held, with a reason; none runs as if whole.
    const held = reopened.jobs().filter(v => v.job.attention != null).map(v => v.job.id)
    expect(held.length).toBeGreaterThan(0)
    for (const id of [first, second, third]) {
      const view = reopened.job(id)
      if (view == null) continue
      const holes = Array.from({ length: view.job.unitCount }, (_, i) => i).filter(i => view.units[i] == null)
      if (holes.length > 0) expect(view.job.attention).toMatch(/lost records/)
    }
    await reopened.close()

    const again = await temp.open(root)
    expect(again.opened.intact).toBe(true)
    expect(again.jobs().filter(v => v.job.attention != null).map(v => v.job.id).sort()).toEqual(held.sort())
  })

  it('removes a job: its records and history go, the numbering stays whole, and the next open is intact', async () => {
    const root = await temp.tempDir()
    const store = await openTestStore(root)
    const gone = await addJob(store)
    const kept = await addJob(store)
    await store.append(gone, { type: 'job:cancelled' })
    await store.remove(gone)
    expect(store.job(gone)).toBeUndefined()
    expect(await store.history(gone)).toEqual([])
    expect((await store.history(kept)).map(e => e.jobSeq)).toEqual([1, 2, 3, 4])
    await store.close()
    const reopened = await temp.open(root)
    expect(reopened.opened.intact).toBe(true)
    expect(reopened.job(gone)).toBeUndefined()
    expect(reopened.job(kept)?.units[0]?.state).toBe('verified')
  })

  it('lets a retry clear the mark of a held job', async () => {
    const store = await temp.open()
    const id = await addJob(store)
    await store.append(id, { type: 'job:damaged', reason: 'test' })
    expect(store.job(id)?.job.attention).toBe('test')
    await store.append(id, { type: 'job:retried' })
    expect(store.job(id)?.job.attention).toBeNull()
  })
})

describe('a job log written before event numbering', () => {
  it('opens as it was, gets its index and a marker, and then checks as any other', async () => {
    const root = await temp.tempDir()
    const { Level } = await import('level')
    // The layout of the earlier version: JSON values, no meta, no index, no marker file.
    const legacy = new Level<string, unknown>(dataPaths(root).db, { valueEncoding: 'json' })
    await legacy.open()
    const log = legacy.sublevel<string, unknown>('log', { valueEncoding: 'json' })
    const id = newJobId()
    const events = [
      { type: 'job:submitted', job: job(id) },
      { type: 'job:planned', sourceHash: 'b'.repeat(128), units: [unit(id, 0)] },
      { type: 'unit:leased', index: 0, worker: 'w1', attempt: 1, leaseUntil: 99 }
    ]
    await legacy.batch([
      ...events.map((event, i) => ({
        type: 'put' as const,
        sublevel: log,
        key: String(i + 1).padStart(16, '0'),
        value: { seq: i + 1, time: 1, jobId: id, event }
      })),
      {
        type: 'put' as const,
        sublevel: legacy.sublevel('jobs', { valueEncoding: 'json' }),
        key: id,
        value: { ...job(id), state: 'running', unitCount: 1 }
      },
      {
        type: 'put' as const,
        sublevel: legacy.sublevel('units', { valueEncoding: 'json' }),
        key: `${id}:00000`,
        value: { ...unit(id, 0), state: 'leased', worker: 'w1', attempts: 1, leaseUntil: 99 }
      }
    ] as never)
    await legacy.close()

    const store = await temp.open(root)
    expect(store.opened.intact).toBe(true)
    expect(store.job(id)?.job).toMatchObject({ state: 'running', eventCount: 3, lastSeq: 3 })
    expect((await store.history(id)).map(e => e.event.type)).toEqual(['job:submitted', 'job:planned', 'unit:leased'])
    await store.append(id, {
      type: 'unit:released',
      index: 0,
      attempt: 1,
      reason: { code: ErrorCodes.CONVERT_FAILED, message: 'x' },
      failure: true
    })
    await store.close()
    expect(await fs.stat(dataPaths(root).logMarker).then(() => true, () => false)).toBe(true)
    const again = await temp.open(root)
    expect(again.opened.intact).toBe(true)
    expect((await again.history(id)).map(e => e.jobSeq)).toEqual([1, 2, 3, 4])
  })
})
