import type { JobView } from '../../store/reduce.js'
import type { JobComponents } from '../shared/deps.js'
import { recordEvent } from '../shared/record-event.js'
import { cleanupJobBlobs } from './cleanup.js'

/** Retention is looked at about twice per period, but at least every 10 minutes and at most every second. */
const SWEEP_MAX_MS = 10 * 60_000
const SWEEP_MIN_MS = 1_000
/**
 * Done jobs compacted per synced write: the first sweep after an upgrade may find a library's
 * thousands, and one fsync each would hold the log for minutes. A write also takes at most about
 * COMPACT_EVENTS of their events to delete (with their index entries), so that a batch of long
 * jobs (a 200-unit job logs some 850) stays a few MB however long its jobs were.
 */
const COMPACT_BATCH = 200
const COMPACT_EVENTS = 20_000

/**
 * Two retentions. The blobs of failed and cancelled jobs are kept for `jobs.failedRetentionSeconds`,
 * so `ffmesh retry` does not convert verified units again; then they are freed and the job says so
 * (job:blobs-freed). Without this a disk that filled with the pieces of failed jobs stayed full.
 * A done job keeps its units for `jobs.doneUnitsRetentionSeconds`, then only what `ffmesh stats`
 * counts of them (job:compacted): a 10-unit job is about 15 KB of JSON with its units and 1.7 KB
 * without, and every job a library ever converted stays in the log and in memory.
 */
export function createRetention (c: JobComponents) {
  const log = c.logger.child({ component: 'retention' })
  const retentionMs = c.config.jobs.failedRetentionSeconds * 1000
  const doneUnitsMs = c.config.jobs.doneUnitsRetentionSeconds * 1000
  let timer: NodeJS.Timeout | undefined
  let sweeping = false

  /** Frees the blobs of failed and cancelled jobs past their retention; how many jobs. */
  async function freeBlobs (now: number): Promise<number> {
    let swept = 0
    for (const { job } of c.store.jobs()) {
      if (
        (job.state !== 'failed' && job.state !== 'cancelled') ||
        job.blobsFreed === true ||
        now - job.updatedAt < retentionMs
      ) {
        continue
      }
      const freed = await cleanupJobBlobs(c, job.id)
      await recordEvent(c, job.id, { type: 'job:blobs-freed' }, { data: { blobs: freed } })
      log.info(
        { jobId: job.id, blobs: freed, state: job.state },
        'retention ended: the blobs of a failed or cancelled job were freed'
      )
      swept++
    }
    return swept
  }

  /**
   * Lets go of the units of done jobs past their retention, and of their events before it; how
   * many jobs. A job held because the log lost some of its records keeps what is left of them for
   * the person asked to look. A job compacted by an older node (its units gone, its events kept)
   * is compacted again, for its events.
   */
  async function compactDone (now: number): Promise<number> {
    if (doneUnitsMs <= 0) return 0
    const due = (v: JobView): boolean =>
      v.job.state === 'done' && v.job.eventsFrom == null && v.job.attention == null &&
      now - v.job.updatedAt >= doneUnitsMs
    let compacted = 0
    for (const batch of batches(c.store.jobs().filter(due))) compacted += (await c.store.compact(batch, due)).length
    if (compacted > 0) log.info({ jobs: compacted }, 'retention ended: done jobs keep their totals, not their units')
    return compacted
  }

  /** The jobs in writes of at most COMPACT_BATCH jobs and about COMPACT_EVENTS events (one job at least). */
  function * batches (views: JobView[]): Generator<string[]> {
    let batch: string[] = []
    let events = 0
    for (const v of views) {
      const count = v.job.eventCount ?? 0
      if (batch.length > 0 && (batch.length >= COMPACT_BATCH || events + count > COMPACT_EVENTS)) {
        yield batch
        batch = []
        events = 0
      }
      batch.push(v.job.id)
      events += count
    }
    if (batch.length > 0) yield batch
  }

  async function sweep (): Promise<number> {
    if (sweeping) return 0
    sweeping = true
    try {
      const now = c.clock()
      return (await freeBlobs(now)) + (await compactDone(now))
    } finally {
      sweeping = false
    }
  }

  return {
    sweep,
    start (): void {
      const shortest = doneUnitsMs > 0 ? Math.min(retentionMs, doneUnitsMs) : retentionMs
      const every = Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, Math.floor(shortest / 2)))
      timer = setInterval(() => { sweep().catch(err => log.warn({ err }, 'retention sweep failed')) }, every)
      timer.unref()
      sweep().catch(err => log.warn({ err }, 'retention sweep failed'))
    },
    stop (): void { clearInterval(timer) }
  }
}
