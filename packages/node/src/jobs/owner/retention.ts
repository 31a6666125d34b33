import type { JobComponents } from '../shared/deps.js'
import { recordEvent } from '../shared/record-event.js'
import { cleanupJobBlobs } from './cleanup.js'

/** Retention is looked at about twice per period, but at least every 10 minutes and at most every second. */
const SWEEP_MAX_MS = 10 * 60_000
const SWEEP_MIN_MS = 1_000

/**
 * The blobs of failed and cancelled jobs are kept for `jobs.failedRetentionSeconds`, so `ffmesh
 * retry` does not convert verified units again; then they are freed and the job says so
 * (job:blobs-freed). Without this a disk that filled with the pieces of failed jobs stayed full.
 */
export function createRetention (c: JobComponents) {
  const log = c.logger.child({ component: 'retention' })
  const retentionMs = c.config.jobs.failedRetentionSeconds * 1000
  let timer: NodeJS.Timeout | undefined
  let sweeping = false

  async function sweep (): Promise<number> {
    if (sweeping) return 0
    sweeping = true
    let swept = 0
    try {
      const now = c.clock()
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
    } finally {
      sweeping = false
    }
    return swept
  }

  return {
    sweep,
    start (): void {
      const every = Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, Math.floor(retentionMs / 2)))
      timer = setInterval(() => { sweep().catch(err => log.warn({ err }, 'retention sweep failed')) }, every)
      timer.unref()
      sweep().catch(err => log.warn({ err }, 'retention sweep failed'))
    },
    stop (): void { clearInterval(timer) }
  }
}
