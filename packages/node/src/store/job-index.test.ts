import { queryObjects } from 'node:v8'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import { newJobId } from '@ffmesh/protocol'
import { jobRecord as job, useTempJobStores } from '../../../../test/fixtures/job-log.js'

const temp = useTempJobStores('ffm-lib-index-')

describe('job store index and batches', () => {
  it('logs a batch of jobs in one write, with area puts, and keeps unfinished jobs in submission order', async () => {
    const dir = await temp.tempDir()
    const store = await temp.open(dir)
    const ids = Array.from({ length: 5 }, (_, i) => newJobId(1000 + i))
    await store.appendBatch(
      ids.map(id => ({ jobId: id, event: { type: 'job:submitted' as const, job: job(id) } })),
      [{ area: 'files', key: '/a', value: 'x' }]
    )
    await store.appendBatch([
      { jobId: ids[1] as string, event: { type: 'job:skipped', reason: { code: 'ALREADY_TARGET', message: 'hevc' } } }
    ])
    await store.append(ids[3] as string, { type: 'job:done', output: '/o', outputSize: 3 })
    expect([...store.unfinished()].map(v => v.job.id)).toEqual([ids[0], ids[2], ids[4]])
    expect(await store.textArea('files').get('/a')).toBe('x')
    expect(store.job(ids[1] as string)?.job).toMatchObject({ state: 'skipped', reason: { code: 'ALREADY_TARGET' } })
    await store.close()
    const reopened = await temp.open(dir)
    expect([...reopened.unfinished()].map(v => v.job.id)).toEqual([ids[0], ids[2], ids[4]])
    expect(reopened.job(ids[3] as string)?.job.outputSize).toBe(3)
  })

  it('walks every job with each(), finished ones too, from the views themselves (no copy to sort)', async () => {
    const store = await temp.open()
    const ids = Array.from({ length: 4 }, (_, i) => newJobId(3000 + i))
    await store.appendBatch(ids.map(id => ({ jobId: id, event: { type: 'job:submitted' as const, job: job(id) } })))
    await store.append(ids[1] as string, { type: 'job:done', output: '/o', outputSize: 3 })
    await store.append(ids[2] as string, { type: 'job:cancelled' })
    const walked = [...store.each()]
    expect(new Set(walked.map(v => v.job.id))).toEqual(new Set(ids))
    expect(walked.map(v => v.job.state).sort()).toEqual(['cancelled', 'done', 'queued', 'queued'])
    expect(walked.every(v => store.job(v.job.id) === v)).toBe(true)
  })

  it('says which paths a kept job writes its output at, as outputs change, jobs go and the log reopens', async () => {
    const dir = await temp.tempDir()
    const store = await temp.open(dir)
    const ids = Array.from({ length: 3 }, (_, i) => newJobId(4000 + i))
    await store.appendBatch(
      ids.map((id, i) => ({ jobId: id, event: { type: 'job:submitted' as const, job: job(id, { output: `/out/${i}.mkv` }) } }))
    )
    expect(['/out/0.mkv', '/out/1.mkv', '/out/2.mkv', '/out/3.mkv'].map(f => store.hasOutput(f))).toEqual([
      true,
      true,
      true,
      false
    ])
    // Job 0 placed its output under another name (one was taken); job 1 is removed; job 2 is done.
    await store.append(ids[0] as string, { type: 'job:done', output: '/out/0 (1).mkv', outputSize: 3 })
    await store.remove(ids[1] as string)
    await store.append(ids[2] as string, { type: 'job:done', output: '/out/2.mkv', outputSize: 3 })
    const now = (s: typeof store): boolean[] => ['/out/0.mkv', '/out/0 (1).mkv', '/out/1.mkv', '/out/2.mkv'].map(f => s.hasOutput(f))
    expect(now(store)).toEqual([false, true, false, true])
    await store.close()
    expect(now(await temp.open(dir))).toEqual([false, true, false, true])
  })

  it('pages jobs oldest or newest first, by state and by batch, counting every match', async () => {
    const store = await temp.open()
    const ids = Array.from({ length: 6 }, (_, i) => newJobId(2000 + i))
    const library = {
      root: '/m',
      profiles: { video: 'h265' },
      rules: { minSize: 0, minBitrateKbps: 0, minSavingPercent: 0 },
      sidecars: [],
      replace: false,
      batch: 'B1'
    }
    await store.appendBatch(
      ids.map((id, i) => ({
        jobId: id,
        event: { type: 'job:submitted' as const, job: job(id, i % 2 === 0 ? { library } : {}) }
      }))
    )
    await store.append(ids[0] as string, { type: 'job:failed', error: { code: 'CONVERT_FAILED', message: 'x' } })
    expect(store.list({ limit: 2 }).views.map(v => v.job.id)).toEqual(ids.slice(0, 2))
    expect(store.list({ order: 'newest', offset: 1, limit: 2 }).views.map(v => v.job.id)).toEqual([ids[4], ids[3]])
    expect(store.list({ states: ['queued'], limit: 1 })).toMatchObject({ total: 5 })
    expect(store.list({ batch: 'B1' }).views.map(v => v.job.id)).toEqual([ids[0], ids[2], ids[4]])
    expect(store.list({ batch: 'B1', states: ['failed'] }).views.map(v => v.job.id)).toEqual([ids[0]])
    // A start of an id: one job's own, then the start all six share (their time), one page of it.
    const own = (ids[3] as string).slice(0, 20)
    expect(store.list({ idPrefix: own }).views.map(v => v.job.id)).toEqual([ids[3]])
    expect(store.list({ idPrefix: (ids[0] as string).slice(0, 6), limit: 2 })).toMatchObject({ total: 6 })
    expect(store.list({ idPrefix: 'ZZ' })).toEqual({ total: 0, views: [] })
  })

  it('keeps one sublevel per area, however many reads and writes a scan makes', async () => {
    const dir = await temp.tempDir()
    // The class of every sublevel, from a database of its own: live instances are counted by it.
    const probe = new Level(`${dir}/probe`)
    const Sublevel = probe.sublevel('x').constructor as new () => unknown
    const live = (): number => queryObjects(Sublevel, { format: 'count' }) as number
    const store = await temp.open()
    const files = store.textArea('files')
    const before = live()
    for (let i = 0; i < 200; i++) {
      await files.put(`/m/${i}`, 'x')
      await files.get(`/m/${i}`)
      const id = newJobId()
      await store.appendBatch(
        [{ jobId: id, event: { type: 'job:submitted', job: job(id) } }],
        [{ area: 'files', key: `/n/${i}`, value: 'y' }]
      )
    }
    // abstract-level keeps each sublevel it makes attached to its parent: one per call held memory per job.
    expect(live() - before).toBeLessThan(5)
    await probe.close()
  })
})
