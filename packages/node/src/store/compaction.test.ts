import { describe, expect, it } from 'vitest'
import { newJobId } from '@ffmesh/protocol'
import { jobRecord as job, openTestStore, unitRecord as unit, useTempJobStores } from '../../../../test/fixtures/job-log.js'
import { dataPaths } from '../config/paths.js'
import { indexKey, openLevel, seqKey, sublevels, type MetaRecord } from './log-db.js'
import { LOG_VERSION } from './log-load.js'
import type { JobStore } from './job-store.js'
import type { JobView } from './reduce.js'

const temp = useTempJobStores('ffm-compact-')
const RESULT = { hash: 'c'.repeat(128), size: 5, frames: 144, durationSec: 6 }
const isDone = (v: JobView): boolean => v.job.state === 'done' && v.job.eventsFrom == null

/**
 * Jobs of `units` units each, logged side by side as two nodes would run them (their events
 * alternate in the log), all done but `running`, which stays mid-way.
 */
async function sideBySide (store: JobStore, count: number, units: number, running = -1): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newJobId())
  const each = async (fn: (id: string, i: number) => Promise<unknown>): Promise<void> => {
    for (const [i, id] of ids.entries()) await fn(id, i)
  }
  await each(id => store.append(id, { type: 'job:submitted', job: job(id) }))
  await each(id => store.append(id, {
    type: 'job:planned',
    sourceHash: 'b'.repeat(128),
    units: Array.from({ length: units }, (_, index) => unit(id, index))
  }))
  for (let index = 0; index < units; index++) {
    await each(id => store.append(id, { type: 'unit:leased', index, worker: 'w1', attempt: 1, leaseUntil: 99 }))
    await each(id => store.append(id, { type: 'unit:verified', index, worker: 'w1', attempt: 1, result: RESULT }))
  }
  await each((id, i) => i === running ? Promise.resolve() : store.append(id, { type: 'job:done', output: `/o/${id}.mkv` }))
  return ids
}

/** What a closed log holds on disk: its event records and its gap records. */
async function onDisk (root: string): Promise<{ events: number, gaps: Array<[string, unknown]> }> {
  const level = await openLevel(dataPaths(root).db, { create: false })
  try {
    const subs = sublevels(level)
    return { events: (await subs.log.keys().all()).length, gaps: await subs.gaps.iterator().all() }
  } finally {
    await level.close()
  }
}

describe('compacting done jobs', () => {
  it('deletes their events before the compaction, and the log opens whole with the jobs as they were', async () => {
    const root = await temp.tempDir()
    let store = await openTestStore(root)
    const [a, b, running] = await sideBySide(store, 3, 4, 2) as [string, string, string]
    const before = store.job(a)?.job
    expect(await store.compact([a, b, running], isDone)).toEqual([a, b])

    expect((await store.history(a)).map(e => e.event.type)).toEqual(['job:compacted'])
    expect(store.job(a)?.units).toEqual([])
    expect(store.job(a)?.job).toEqual({
      ...before,
      compacted: { workers: [{ peer: 'w1', units: 4, ms: expect.any(Number) }] },
      eventsFrom: 12,
      eventCount: 12,
      lastSeq: expect.any(Number)
    })
    const runningEvents = (await store.history(running)).length
    expect(runningEvents).toBe(10)
    const views = store.jobs()
    await store.close()

    // 3 jobs × 10 events + 2 done + 2 compactions: the done jobs keep their compaction only.
    const disk = await onDisk(root)
    expect(disk.events).toBe(runningEvents + 2)
    // Their 22 events lay between the running job's: one gap record per stretch between those.
    expect(disk.gaps).toHaveLength(11)
    store = await openTestStore(root)
    expect(store.opened.intact).toBe(true)
    expect(store.jobs()).toEqual(views)
    await store.close()
  })

  it('joins the runs of numbers as the jobs between them are compacted', async () => {
    const root = await temp.tempDir()
    let store = await openTestStore(root)
    const [a, b] = await sideBySide(store, 2, 3) as [string, string]
    await store.compact([a], isDone)
    expect(store.job(a)?.job.eventsFrom).toBe(10)
    await store.close()
    // a's 9 events alternated with b's 8 and its done: apart from one another.
    expect((await onDisk(root)).gaps).toHaveLength(9)

    store = await openTestStore(root)
    expect(store.opened.intact).toBe(true)
    await store.compact([b], isDone)
    await store.close()
    const { gaps } = await onDisk(root)
    expect(gaps).toEqual([[seqKey(1), { why: 'compacted', jobId: null, at: expect.any(Number), through: 18 }]])
    store = await openTestStore(root)
    expect(store.opened.intact).toBe(true)
    expect(store.job(b)?.job.compacted).toEqual({ workers: [{ peer: 'w1', units: 3, ms: expect.any(Number) }] })
    await store.close()
  })

  it('still finds a record lost among the ones let go', async () => {
    const root = await temp.tempDir()
    let store = await openTestStore(root)
    const [a, , running] = await sideBySide(store, 3, 2, 2) as [string, string, string]
    await store.compact([a], isDone)
    const lost = (await store.history(running)).find(e => e.event.type === 'unit:verified')?.seq as number
    await store.close()
    const level = await openLevel(dataPaths(root).db, { create: false })
    await sublevels(level).log.del(seqKey(lost))
    await level.close()

    store = await openTestStore(root)
    expect(store.opened.intact).toBe(false)
    expect(store.opened.damage.lostSeqs).toEqual([lost])
    expect(store.opened.damage.attention.has(running)).toBe(true)
    expect(store.opened.damage.attention.has(a)).toBe(false)
    await store.close()
  })

  it('compacts a job that changed while the compaction read its index, and a removal racing it leaves the log whole', async () => {
    const root = await temp.tempDir()
    let store = await openTestStore(root)
    const [late, removed, other] = await sideBySide(store, 3, 2) as [string, string, string]
    const racing: Array<Promise<unknown>> = []
    const compacted = await store.compact([late, removed, other], view => {
      // Asked first before the job's index is read: the event and the removal start then.
      if (racing.length === 0 && view.job.id === late) racing.push(store.append(late, { type: 'job:delivered' }))
      if (racing.length === 1 && view.job.id === removed) racing.push(store.remove(removed))
      return isDone(view)
    })
    await Promise.all(racing)
    expect(compacted).toEqual(expect.arrayContaining([late, other]))
    expect(store.job(removed)).toBeUndefined()
    expect((await store.history(late)).at(-1)?.event.type).toBe('job:compacted')
    expect(store.job(late)?.job.delivered).toBe(true)
    await store.close()

    store = await openTestStore(root)
    expect(store.opened.intact).toBe(true)
    expect(store.job(removed)).toBeUndefined()
    await store.remove(late)
    await store.close()
    store = await openTestStore(root)
    expect(store.opened.intact).toBe(true)
    expect(store.jobs().map(v => v.job.id)).toEqual([other])
  })

  it('removes a compacted job whose deleted event a repair brought back, keeping the run around it', async () => {
    const root = await temp.tempDir()
    let store = await openTestStore(root)
    const [a, b] = await sideBySide(store, 2, 3) as [string, string]
    const [submitted] = await store.history(a)
    if (submitted == null) throw new Error(`job ${a} has no events`)
    await store.compact([a, b], isDone)
    await store.close()
    // As LevelDB's repair may: a deleted record and its index entry back, at the run's first number.
    const level = await openLevel(dataPaths(root).db, { create: false })
    const subs = sublevels(level)
    await subs.log.put(seqKey(1), submitted)
    await subs.byJob.put(indexKey(a, 1), 1)
    await level.close()

    store = await openTestStore(root)
    expect(store.opened.intact).toBe(true)
    await store.remove(a)
    await store.close()
    expect((await onDisk(root)).gaps[0]).toEqual([seqKey(1), expect.objectContaining({ through: 18 })])
    store = await openTestStore(root)
    expect(store.opened.intact).toBe(true)
    expect(store.jobs().map(v => v.job.id)).toEqual([b])
  })

  it('refuses to open a log whose gap record is not one it wrote, with STORE_CORRUPT', async () => {
    const bad = [
      { why: 'compacted', jobId: null, at: 1, through: 'x' },
      { why: 'compacted', jobId: null, at: 1, through: 0 },
      { why: 'forgotten', jobId: null, at: 1 }
    ]
    for (const gap of bad) {
      const root = await temp.tempDir()
      const store = await openTestStore(root)
      const [a] = await sideBySide(store, 1, 1)
      await store.compact([a as string], isDone)
      await store.close()
      const level = await openLevel(dataPaths(root).db, { create: false })
      await sublevels(level).gaps.put(seqKey(1), gap as never)
      await level.close()
      await expect(openTestStore(root), JSON.stringify(gap)).rejects.toMatchObject({ code: 'STORE_CORRUPT' })
    }
  })

  it('refuses a log of a newer layout with STORE_TOO_NEW, and changes nothing', async () => {
    const root = await temp.tempDir()
    await (await openTestStore(root)).close()
    const level = await openLevel(dataPaths(root).db, { create: false })
    const meta = sublevels(level).meta
    const newer = { ...(await meta.get('store') as MetaRecord), version: LOG_VERSION + 1 }
    await meta.put('store', newer)
    await level.close()
    await expect(openTestStore(root)).rejects.toMatchObject({ code: 'STORE_TOO_NEW' })
    const after = await openLevel(dataPaths(root).db, { create: false })
    expect(await sublevels(after).meta.get('store')).toEqual(newer)
    await after.close()
  })
})
