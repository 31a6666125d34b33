import { describe, expect, it } from 'vitest'
import { ErrorCodes, isFfmeshError, newJobId } from '@ffmesh/protocol'
import {
  jobRecord as job,
  openTestStore,
  unitRecord as unit,
  useTempJobStores
} from '../../../../test/fixtures/job-log.js'
import type { JobStore } from './job-store.js'
import { replay } from './reduce.js'
import type { MediaInfo } from '../media/index.js'

const temp = useTempJobStores('ffmesh-store-')

/** A fresh store holding one planned job of one unit; in `dir` when the test reopens it. */
async function plannedJob (dir?: string): Promise<{ store: JobStore, id: string }> {
  const store = await temp.open(dir)
  const id = newJobId()
  await store.append(id, { type: 'job:submitted', job: job(id) })
  await store.append(id, { type: 'job:planned', sourceHash: 'b'.repeat(128), units: [unit(id, 0)] })
  return { store, id }
}

describe('job store', () => {
  it('takes the source frame count from the plan, and keeps the submitted one when an older plan has none', async () => {
    const store = await temp.open()
    const counted = newJobId()
    await store.append(counted, {
      type: 'job:submitted',
      job: { ...job(counted), info: { ...(job(counted).info as MediaInfo), videoFrames: null } }
    })
    await store.append(counted, { type: 'job:planned', sourceHash: null, units: [unit(counted, 0)], videoFrames: 1438 })
    expect(store.job(counted)?.job.info?.videoFrames).toBe(1438)
    const older = newJobId()
    await store.append(older, { type: 'job:submitted', job: job(older) })
    await store.append(older, { type: 'job:planned', sourceHash: null, units: [unit(older, 0)] })
    expect(store.job(older)?.job.info?.videoFrames).toBe(job(older).info?.videoFrames)
    expect(replay(await store.history(counted))?.job.info?.videoFrames).toBe(1438)
  })

  it('keeps views equal to the replayed log across a reopen', async () => {
    const dir = await temp.tempDir()
    const id = newJobId()
    const store = await openTestStore(dir)
    await store.append(id, { type: 'job:submitted', job: job(id) })
    await store.append(id, { type: 'job:planned', sourceHash: 'b'.repeat(128), units: [unit(id, 0), unit(id, 1)] })
    await store.append(id, { type: 'unit:leased', index: 0, worker: 'w1', attempt: 1, leaseUntil: 99 })
    await store.append(id, {
      type: 'unit:verified',
      index: 0,
      worker: 'w1',
      attempt: 1,
      result: { hash: 'c'.repeat(128), size: 5, frames: 144, durationSec: 6 }
    })
    await store.append(id, { type: 'unit:leased', index: 1, worker: 'w2', attempt: 1, leaseUntil: 99 })
    await store.append(id, {
      type: 'unit:released',
      index: 1,
      attempt: 1,
      reason: { code: ErrorCodes.CONVERT_TIMEOUT, message: 'lease expired' },
      failure: true
    })
    await store.close()

    const reopened = await temp.open(dir)
    const view = reopened.job(id)
    expect(view?.job.state).toBe('running')
    expect(view?.units.map(u => [u.state, u.attempts, u.failures])).toEqual([['verified', 1, 0], ['pending', 1, 1]])
    const replayed = replay(await reopened.history(id))
    expect(replayed?.units).toEqual(view?.units)
    expect(replayed?.job.state).toEqual(view?.job.state)
  })

  it('lets a done job\'s units go (job:compacted), keeping its totals, its time and an intact log', async () => {
    const dir = await temp.tempDir()
    const store = await openTestStore(dir)
    const id = newJobId()
    await store.append(id, { type: 'job:submitted', job: job(id) })
    await store.append(id, { type: 'job:planned', sourceHash: null, units: [unit(id, 0), unit(id, 1)] })
    for (const index of [0, 1]) {
      await store.append(id, { type: 'unit:leased', index, worker: `w${index}`, attempt: 1, leaseUntil: 99 })
      const result = { hash: String(index).repeat(128), size: 5, frames: 144, durationSec: 6 }
      await store.append(id, { type: 'unit:verified', index, worker: `w${index}`, attempt: 1, result })
    }
    await store.append(id, { type: 'job:done', output: '/out/a.mkv', outputSize: 10 })
    const ended = store.job(id)?.job.updatedAt
    const summary = { workers: [{ peer: 'w0', units: 1, ms: 1500 }, { peer: 'w1', units: 1, ms: 1700 }] }
    await store.append(id, { type: 'job:compacted', summary })
    expect(store.job(id)?.units).toEqual([])
    expect(store.job(id)?.job).toMatchObject({ state: 'done', compacted: summary, unitCount: 2, updatedAt: ended })
    await store.close()

    const reopened = await temp.open(dir)
    expect(reopened.opened.intact).toBe(true)
    expect(reopened.job(id)?.units).toEqual([])
    expect(reopened.job(id)?.job.compacted).toEqual(summary)
    expect(replay(await reopened.history(id))).toEqual(reopened.job(id))
    // Only a done job has units to let go: a running one keeps them.
    const running = newJobId()
    await reopened.append(running, { type: 'job:submitted', job: job(running) })
    await reopened.append(running, { type: 'job:planned', sourceHash: null, units: [unit(running, 0)] })
    await reopened.append(running, { type: 'job:compacted', summary: { workers: [] } })
    expect(reopened.job(running)?.units).toHaveLength(1)
    expect(reopened.job(running)?.job.compacted).toBeUndefined()
  })

  it('removes a job only as the write finds it: a retry queued first keeps it, an event between read and write goes too', async () => {
    const dir = await temp.tempDir()
    const store = await openTestStore(dir)
    const failed = async (): Promise<string> => {
      const id = newJobId()
      await store.append(id, { type: 'job:submitted', job: job(id) })
      await store.append(id, { type: 'job:planned', sourceHash: null, units: [unit(id, 0)] })
      await store.append(id, { type: 'job:failed', error: { code: ErrorCodes.CONVERT_FAILED, message: 'x' } })
      return id
    }
    const onlyEnded = (view: { job: { state: string } }): void => {
      if (view.job.state !== 'failed') throw new Error(`job is ${view.job.state}`)
    }
    // `ffmesh rm` and `ffmesh retry` at once: the retry's write is queued while the removal reads.
    const retried = await failed()
    const removing = store.remove(retried, onlyEnded)
    await store.append(retried, { type: 'job:retried' })
    await expect(removing).rejects.toThrow('job is running')
    expect(store.job(retried)?.job.state).toBe('running')
    // An event logged between the removal's read and its write (the blobs freed by retention).
    const freed = await failed()
    const removed = store.remove(freed)
    await store.append(freed, { type: 'job:blobs-freed' })
    await removed
    expect(store.job(freed)).toBeUndefined()
    await store.close()

    const reopened = await temp.open(dir)
    expect(reopened.opened.intact).toBe(true)
    expect(reopened.job(freed)).toBeUndefined()
    expect(replay(await reopened.history(retried))).toEqual(reopened.job(retried))
  })

  it('leaves a job done when a cancel waited in the log\'s queue behind its end', async () => {
    const { store, id } = await plannedJob()
    await store.append(id, { type: 'job:done', output: '/out/a.mkv', outputSize: 10 })
    await store.append(id, { type: 'job:cancelled' })
    expect(store.job(id)?.job).toMatchObject({ state: 'done', output: '/out/a.mkv' })
    expect(replay(await store.history(id))).toEqual(store.job(id))
  })

  it('keeps the first verified result: a late or duplicate one changes nothing', async () => {
    const { store, id } = await plannedJob()
    await store.append(id, { type: 'unit:leased', index: 0, worker: 'w1', attempt: 1, leaseUntil: 1 })
    await store.append(id, {
      type: 'unit:released',
      index: 0,
      attempt: 1,
      reason: { code: ErrorCodes.CONVERT_TIMEOUT, message: 'expired' },
      failure: true
    })
    await store.append(id, { type: 'unit:leased', index: 0, worker: 'w2', attempt: 2, leaseUntil: 2 })
    await store.append(id, {
      type: 'unit:verified',
      index: 0,
      worker: 'w2',
      attempt: 2,
      result: { hash: 'd'.repeat(128), size: 1, frames: 144, durationSec: 6 }
    })
    await store.append(id, {
      type: 'unit:verified',
      index: 0,
      worker: 'w1',
      attempt: 1,
      result: { hash: 'e'.repeat(128), size: 1, frames: 144, durationSec: 6 }
    })
    await store.append(id, {
      type: 'unit:released',
      index: 0,
      attempt: 2,
      reason: { code: ErrorCodes.CONVERT_FAILED, message: 'late' },
      failure: true
    })
    const u = store.job(id)?.units[0]
    expect(u?.state).toBe('verified')
    expect(u?.worker).toBe('w2')
    expect(u?.result?.hash).toBe('d'.repeat(128))
  })

  it('ignores a release for an attempt that is no longer current', async () => {
    const { store, id } = await plannedJob()
    await store.append(id, { type: 'unit:leased', index: 0, worker: 'w1', attempt: 1, leaseUntil: 1 })
    await store.append(id, {
      type: 'unit:released',
      index: 0,
      attempt: 1,
      reason: { code: ErrorCodes.CONVERT_FAILED, message: 'x' },
      failure: true
    })
    await store.append(id, { type: 'unit:leased', index: 0, worker: 'w2', attempt: 2, leaseUntil: 2 })
    await store.append(id, {
      type: 'unit:released',
      index: 0,
      attempt: 1,
      reason: { code: ErrorCodes.CONVERT_FAILED, message: 'stale' },
      failure: true
    })
    expect(store.job(id)?.units[0].state).toBe('leased')
    expect(store.job(id)?.units[0].worker).toBe('w2')
  })

  it('counts a release logged twice as one failed try, also when the log is read again', async () => {
    const dir = await temp.tempDir()
    const { store, id } = await plannedJob(dir)
    await store.append(id, { type: 'unit:leased', index: 0, worker: 'w1', attempt: 1, leaseUntil: 1 })
    const released = {
      type: 'unit:released' as const,
      index: 0,
      attempt: 1,
      reason: { code: ErrorCodes.CONVERT_TIMEOUT, message: 'lease expired' },
      failure: true
    }
    // The second append is what an owner writes when it could not tell whether the first one took.
    await store.append(id, released)
    await store.append(id, released)
    expect(store.job(id)?.units[0]).toMatchObject({ state: 'pending', attempts: 1, failures: 1 })
    await store.close()
    const reopened = await temp.open(dir)
    expect(reopened.job(id)?.units[0]).toMatchObject({ state: 'pending', attempts: 1, failures: 1 })
    expect((await reopened.history(id)).filter(e => e.event.type === 'unit:released')).toHaveLength(2)
  })

  it('never records a second lease while one is live', async () => {
    const { store, id } = await plannedJob()
    await store.append(id, { type: 'unit:leased', index: 0, worker: 'w1', attempt: 1, leaseUntil: 1 })
    await store.append(id, { type: 'unit:leased', index: 0, worker: 'w2', attempt: 1, leaseUntil: 1 })
    await store.append(id, { type: 'unit:leased', index: 0, worker: 'w3', attempt: 2, leaseUntil: 1 })
    expect(store.job(id)?.units[0]).toMatchObject({ state: 'leased', worker: 'w1', attempts: 1 })
  })

  it('refuses a second opener with NODE_ALREADY_RUNNING', async () => {
    const dir = await temp.tempDir()
    await temp.open(dir)
    const err = await openTestStore(dir).then(() => null, (e: unknown) => e)
    expect(isFfmeshError(err) && err.code).toBe(ErrorCodes.NODE_ALREADY_RUNNING)
  })

  it('runs a job on the first part of its plan, appends the rest, and keeps a job cancelled mid-plan cancelled', async () => {
    const store = await temp.open()
    const id = newJobId()
    await store.append(id, { type: 'job:submitted', job: job(id) })
    await store.append(id, { type: 'job:units-planned', units: [unit(id, 0)] })
    expect(store.job(id)?.job).toMatchObject({ state: 'running', planning: true, unitCount: 1 })
    await store.append(id, { type: 'job:planned', sourceHash: 'b'.repeat(128), units: [unit(id, 1), unit(id, 2)] })
    expect(store.job(id)?.job).toMatchObject({
      state: 'running',
      planning: false,
      unitCount: 3,
      sourceHash: 'b'.repeat(128)
    })
    expect(store.job(id)?.units.map(u => u.index)).toEqual([0, 1, 2])

    const other = newJobId()
    await store.append(other, { type: 'job:submitted', job: job(other) })
    await store.append(other, { type: 'job:units-planned', units: [unit(other, 0)] })
    await store.append(other, { type: 'job:cancelled' })
    await store.append(other, { type: 'job:planned', sourceHash: 'b'.repeat(128), units: [unit(other, 1)] })
    expect(store.job(other)?.job).toMatchObject({ state: 'cancelled', planning: false, unitCount: 2 })
    await store.append(other, { type: 'job:retried' })
    expect(store.job(other)?.job.state).toBe('running')
    expect(replay(await store.history(other))?.job).toMatchObject({ state: 'running', planning: false, unitCount: 2 })
  })

  it('records no source hash for a cut plan, and keeps the hash a handed-off source arrived with', async () => {
    const store = await temp.open()
    const cut = newJobId()
    await store.append(cut, { type: 'job:submitted', job: job(cut) })
    await store.append(cut, { type: 'job:planned', sourceHash: null, units: [unit(cut, 0)] })
    expect(store.job(cut)?.job).toMatchObject({ state: 'running', sourceHash: null })

    const handed = newJobId()
    await store.append(handed, { type: 'job:submitted', job: { ...job(handed), sourceHash: 'd'.repeat(128) } })
    await store.append(handed, { type: 'job:planned', sourceHash: null, units: [unit(handed, 0)] })
    expect(store.job(handed)?.job.sourceHash).toBe('d'.repeat(128))
    expect(replay(await store.history(handed))?.job.sourceHash).toBe('d'.repeat(128))
  })
})
