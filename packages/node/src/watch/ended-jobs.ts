import { TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import type { EventBus } from '../events.js'
import type { JobStore } from '../store/job-store.js'
import type { WatchDeps } from './watch-manager.js'

/** Each job that ends (done, failed or cancelled), as the watch manager hears of it. */
export function endedJobs (events: EventBus, store: Pick<JobStore, 'job'>): WatchDeps['onJobEnded'] {
  return (listener) => events.on((e) => {
    if (e.jobId == null || (e.type !== 'job:done' && e.type !== 'job:failed' && e.type !== 'job:cancelled')) return
    const job = store.job(e.jobId)?.job
    if (job != null && TERMINAL_JOB_STATES.includes(job.state)) {
      listener({
        id: job.id,
        state: job.state as 'done' | 'failed' | 'cancelled',
        source: job.source,
        output: job.output
      })
    }
  })
}
