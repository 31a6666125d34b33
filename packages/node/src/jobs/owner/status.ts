import type { JobStatus, UnitStatus } from '@ffmesh/protocol'
import type { JobView } from '../../store/reduce.js'
import { WAITING_AFTER_MS, type OwnerState } from './owner-state.js'

/** The job view as `ffmesh status --json` shows it (its shape is `JobStatus` in packages/protocol). */
export function toJobStatus (view: JobView, rt: OwnerState, now: number): JobStatus {
  // filter() skips the holes a log that lost records may leave in a plan.
  const units: UnitStatus[] = view.units.filter(u => u != null).map(u => ({
    index: u.index,
    kind: u.spec.kind,
    state: u.state,
    worker: u.worker,
    attempts: u.attempts,
    progress: u.state === 'verified' ? 1 : u.state === 'pending' ? 0 : rt.peek(u.jobId, u.index)?.progress ?? 0,
    durationSec: u.spec.durationSec,
    ...(u.tries != null ? { tries: u.tries } : {})
  }))
  const total = units.reduce((n, u) => n + Math.max(u.durationSec, 0.001), 0)
  const done = units.reduce((n, u) => n + Math.max(u.durationSec, 0.001) * u.progress, 0)
  const { job } = view
  return {
    id: job.id,
    state: job.state,
    profile: job.profile.name,
    source: job.source,
    output: job.output,
    error: job.error,
    units,
    owner: job.owner,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    waiting: job.state === 'running' ? waitingReason(view, rt, now) : null,
    attention: job.attention ?? null,
    progress: job.state === 'done' ? 1 : total > 0 ? done / total : 0,
    reason: job.reason ?? null,
    bytesIn: job.sourceSize,
    bytesOut: job.outputSize ?? null
  }
}

/** Why pending units are not moving, when they have waited long enough to be worth saying. */
function waitingReason (view: JobView, rt: OwnerState, now: number): string | null {
  for (const u of view.units) {
    if (u.state !== 'pending') continue
    const state = rt.peek(u.jobId, u.index)
    if (state?.offeredSince == null || now - state.offeredSince < WAITING_AFTER_MS) continue
    const refusals = [...state.refusals.entries()]
      .filter(([, r]) => r.until > now)
      .map(([peer, r]) => `${peer.slice(-8)}: ${r.code}`)
    return refusals.length > 0
      ? `unit ${u.index} is waiting: refused by ${refusals.join(', ')}`
      : `unit ${u.index} is waiting: no node with a free slot has claimed it`
  }
  return null
}
