import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { plannedJob, useTempJobStores } from '../../../../../test/fixtures/job-log.js'
import { ConfigSchema } from '../../config/schema.js'
import type { JobStore } from '../../store/job-store.js'
import type { JobComponents } from '../shared/deps.js'
import { createRetention } from './retention.js'

const temp = useTempJobStores('ffmesh-retention-')
const DAY_MS = 24 * 3600 * 1000

/** A job of `units` units, each verified by worker w1, then done. */
async function doneJob (store: JobStore, units: number): Promise<string> {
  const id = await plannedJob(store, units)
  for (let index = 0; index < units; index++) {
    await store.append(id, { type: 'unit:leased', index, worker: 'w1', attempt: 1, leaseUntil: 1 })
    const result = { hash: 'c'.repeat(128), size: 5, frames: 144, durationSec: 6 }
    await store.append(id, { type: 'unit:verified', index, worker: 'w1', attempt: 1, result })
  }
  await store.append(id, { type: 'job:done', output: `/out/${id}.mkv`, outputSize: 5 })
  return id
}

/** The retention of a node whose clock reads `now`: what the sweep needs, the rest left out. */
function retentionAt (store: JobStore, now: () => number) {
  const c = {
    config: ConfigSchema.parse({}),
    store,
    clock: now,
    logger: pino({ level: 'silent' }),
    events: { emit: () => {} }
  } as unknown as JobComponents
  return createRetention(c)
}

describe('the retention of done jobs', () => {
  it('lets the units of done jobs go after 30 days, except a job held for lost records', async () => {
    const store = await temp.open()
    const old = await doneJob(store, 3)
    const held = await doneJob(store, 2)
    await store.append(held, { type: 'job:damaged', reason: 'the records of 1 of its 3 units are missing' })
    const running = await plannedJob(store, 2)
    let now = Date.now()
    const retention = retentionAt(store, () => now)
    expect(await retention.sweep()).toBe(0)
    now += 30 * DAY_MS + 1
    expect(await retention.sweep()).toBe(1)
    expect(store.job(old)?.units).toEqual([])
    expect(store.job(old)?.job.compacted).toEqual({ workers: [{ peer: 'w1', units: 3, ms: expect.any(Number) }] })
    expect(store.job(held)?.units).toHaveLength(2)
    expect(store.job(running)?.units).toHaveLength(2)
    expect(await retention.sweep()).toBe(0)
  })

  it('compacts again, for its events, a done job an older node compacted, keeping its totals', async () => {
    const store = await temp.open()
    const id = await doneJob(store, 2)
    const workers = [{ peer: 'w1', units: 2, ms: 1234 }]
    // As an older node logged it: units let go, events kept.
    await store.append(id, { type: 'job:compacted', summary: { workers } })
    expect(await store.history(id)).toHaveLength(8)
    const retention = retentionAt(store, () => Date.now() + 31 * DAY_MS)
    expect(await retention.sweep()).toBe(1)
    expect(store.job(id)?.job).toMatchObject({ compacted: { workers }, eventsFrom: 9 })
    expect((await store.history(id)).map(e => e.event.type)).toEqual(['job:compacted'])
    expect(await retention.sweep()).toBe(0)
  })
})
