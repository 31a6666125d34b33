import type { JobView } from './reduce.js'
import type { JobSummary, UnitRecord, WorkerTime } from './records.js'

/** From the lease to the verified result of the try that counted (0 for a unit logged without tries). */
function verifiedTryMs (unit: UnitRecord): number {
  const verified = unit.tries?.findLast(t => t.outcome === 'verified')
  return verified?.endedAt != null ? verified.endedAt - verified.leasedAt : 0
}

/**
 * The nodes that converted a job's units, each with its verified units and their time: counted
 * from the units, or, once they were let go (job:compacted), as the job kept them.
 */
export function workerTimes (view: JobView): WorkerTime[] {
  if (view.job.compacted != null) return view.job.compacted.workers
  const byPeer = new Map<string, WorkerTime>()
  for (const u of view.units) {
    if (u?.state !== 'verified' || u.worker == null) continue
    const w = byPeer.get(u.worker) ?? { peer: u.worker, units: 0, ms: 0 }
    w.units++
    w.ms += verifiedTryMs(u)
    byPeer.set(u.worker, w)
  }
  return [...byPeer.values()]
}

/** What a done job keeps of its units when they are let go. */
export function summarize (view: JobView): JobSummary {
  return { workers: workerTimes(view) }
}
