import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { newJobId } from '@ffmesh/protocol'
import { jobRecord, OWNER_PEER, useTempJobStores } from '../../../../../test/fixtures/job-log.js'
import { paced } from '../../../../../test/helpers/pace.js'
import { createEventBus } from '../../events.js'
import { createLogger } from '../../logger.js'
import type { PlanInit, PlanResult } from '../../media/index.js'
import type { JobStore } from '../../store/job-store.js'
import { createTaskLimiter } from '../../task-limiter.js'
import type { JobComponents } from '../shared/deps.js'
import { planJob } from './planner.js'

const temp = useTempJobStores('ffmesh-planner-')

/** A promise with its resolve, to hold a stand-in ffmpeg run until the test lets it end. */
function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve = (): void => {}
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}

/**
 * Two submitted jobs of real source files on a real job log, on a mesh of one slot where jobs.cut
 * `auto` plans a minute-long file whole and `segments` cuts it. The media stand-in holds each plan's
 * read until the test releases it, then gives one whole unit.
 */
async function twoJobs (cut: 'auto' | 'segments') {
  const store: JobStore = await temp.open()
  const dir = await temp.tempDir()
  const work = path.join(dir, 'work')
  const jobs: string[] = []
  for (const name of ['a.mkv', 'b.mkv']) {
    const source = path.join(dir, name)
    await fs.writeFile(source, `the bytes of ${name}`)
    const { size, mtimeMs } = await fs.stat(source)
    const id = newJobId()
    await store.append(id, { type: 'job:submitted', job: jobRecord(id, { source, sourceSize: size, sourceMtimeMs: mtimeMs }) })
    jobs.push(id)
  }
  const reads: Array<{ source: string, whole: boolean, done: ReturnType<typeof deferred> }> = []
  const media = {
    planAudioFirst: async () => null,
    planSource: async (init: PlanInit): Promise<PlanResult> => {
      const read = { source: init.source, whole: init.whole === true, done: deferred() }
      reads.push(read)
      await read.done.promise
      const unit = {
        kind: 'whole' as const,
        files: [init.source],
        preRoll: false,
        range: null,
        durationSec: 60,
        expectedFrames: 1440,
        inputFormat: 'source' as const
      }
      return { units: [unit], videoFrames: 1440, info: init.info }
    }
  }
  const c = {
    config: { jobs: { cut, segmentSeconds: 6 }, worker: { slots: 1 } },
    paths: { work },
    store,
    mesh: { peerId: OWNER_PEER, peers: () => [] },
    media,
    events: createEventBus(),
    arriving: { seconds: () => 0 },
    logger: createLogger({ level: 'silent' })
  } as unknown as JobComponents
  return { c, store, jobs, reads }
}

/** Resolves once `done()` holds; it is asked every few milliseconds, for at most 10 s. */
async function until (done: () => boolean): Promise<void> {
  const deadline = performance.now() + paced(10_000)
  while (!done()) {
    if (performance.now() > deadline) throw new Error('the condition never held')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

describe('planning whole files', () => {
  it('reads one source at a time: the second plan scans and hashes after the first is done', async () => {
    const { c, store, jobs, reads } = await twoJobs('auto')
    const wholeReads = createTaskLimiter(1)
    const plans = jobs.map(async id => await planJob(c, id, { progressOf: () => 0, wholeReads }))
    // Both plans have come to their read: the second waits behind the first (or, were reads not
    // taken in turn, reads beside it).
    await until(() => wholeReads.size === 2 || reads.length === 2)
    expect(reads.map(r => r.whole)).toEqual([true])
    reads[0]?.done.resolve()
    await until(() => reads.length === 2)
    reads[1]?.done.resolve()
    await Promise.all(plans)
    // Each plan is logged whole with its source's SHA-512 (the hash is part of the read).
    for (const id of jobs) {
      const view = store.job(id)
      expect(view?.job.state).toBe('running')
      expect(view?.units.map(u => u.spec.kind)).toEqual(['whole'])
      expect(view?.job.sourceHash).toMatch(/^[0-9a-f]{128}$/)
    }
  })

  it('lets a plan that cuts read beside another', async () => {
    const { c, jobs, reads } = await twoJobs('segments')
    const wholeReads = createTaskLimiter(1)
    const plans = jobs.map(async id => await planJob(c, id, { progressOf: () => 0, wholeReads }))
    await until(() => reads.length === 2)
    expect(reads.map(r => r.whole)).toEqual([false, false])
    for (const r of reads) r.done.resolve()
    await Promise.all(plans)
  })
})
