import {
  ErrorCodes,
  FfmeshError,
  MAX_UNITS_IN_JOB_STATE,
  TERMINAL_JOB_STATES,
  type JobStateMessage,
  type JobStatus,
  type UnitStatus
} from '@ffmesh/protocol'
import type { JobView } from '../../store/reduce.js'
import type { Mirror, Mirrors } from '../handoff/mirrors.js'
import { holdReason } from '../shared/disk-hold.js'
import type { JobComponents } from '../shared/deps.js'
import { isPending, isVerified } from '../shared/unit-lease.js'
import { WAITING_AFTER_MS, type OwnerState } from './owner-state.js'

export interface JobStatusComponents extends Pick<JobComponents, 'store' | 'disk' | 'clock'> {
  self: string
  owner: {
    state: OwnerState
    /** Why a job waits after a step ran out of space (null when it does not). */
    spaceHold(id: string): string | null
  }
  /** Handed-off jobs as their new owners last reported them. */
  mirrors: Pick<Mirrors, 'get'>
}

/** A job's status as every reader gets it: the control API, the status protocol, the handoff. */
export interface JobStatusBuilder {
  ofView(view: JobView): JobStatus
  /** Throws JOB_NOT_FOUND for a job this node does not have. */
  ofId(id: string): JobStatus
}

/**
 * The one place a job's status is built: the log's view (toJobStatus), then what this node knows
 * beside it: a handed-off job's units as its new owner reported them, or why a job waits here
 * (it needs attention, it waits for a peer to take it, or a disk or the job log holds it).
 */
export function createJobStatus (c: JobStatusComponents): JobStatusBuilder {
  const ofView = (view: JobView): JobStatus => {
    const id = view.job.id
    const s = toJobStatus(view, c.owner.state, c.clock())
    // A handed-off job is owned elsewhere: show what its owner last reported.
    const mirror = view.job.owner !== c.self ? c.mirrors.get(id) : undefined
    if (mirror != null) return { ...s, units: mirror.units, progress: s.state === 'done' ? 1 : mirror.progress }
    if (view.job.attention != null) {
      return {
        ...s,
        waiting: `needs attention: ${view.job.attention}. \`ffmesh retry ${id}\` runs it anyway; \`ffmesh rm ${id}\` removes it`
      }
    }
    if (view.job.handoff === true && view.job.owner === c.self && s.state === 'queued') {
      return {
        ...s,
        waiting:
          view.job.handoffTo == null
            ? 'waiting for a peer with free slots to take the job (handoff)'
            : `handing off to ${view.job.handoffTo}`
      }
    }
    const held =
      view.job.owner === c.self && !TERMINAL_JOB_STATES.includes(s.state)
        ? (holdReason(c, view.job) ?? c.owner.spaceHold(id))
        : null
    return held != null ? { ...s, waiting: held } : s
  }
  return {
    ofView,
    ofId (id) {
      const view = c.store.job(id)
      if (view == null) {
        throw new FfmeshError(ErrorCodes.JOB_NOT_FOUND, `no job ${id} on this node (ffmesh status lists jobs)`)
      }
      return ofView(view)
    }
  }
}

/** The job view as `ffmesh status --json` shows it (its shape is `JobStatus` in packages/protocol). */
export function toJobStatus (view: JobView, rt: OwnerState, now: number): JobStatus {
  // filter() skips the holes a log that lost records may leave in a plan.
  const units: UnitStatus[] = view.units.filter(u => u != null).map(u => ({
    index: u.index,
    kind: u.spec.kind,
    state: u.state,
    worker: u.worker,
    attempts: u.attempts,
    progress: isVerified(u) ? 1 : isPending(u) ? 0 : rt.peek(u.jobId, u.index)?.progress ?? 0,
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

/** A job's units as a new owner reports them to the submitter: none past the message's limit. */
export function reportedUnits (status: JobStatus): JobStateMessage['units'] {
  return status.units.length <= MAX_UNITS_IN_JOB_STATE
    ? status.units.map(u => ({ index: u.index, state: u.state, worker: u.worker, attempts: u.attempts }))
    : null
}

/** What the submitter shows of a handed-off job from its new owner's report (createJobStatus). */
export function mirrorOf (report: Pick<JobStateMessage, 'progress' | 'units'>): Mirror {
  return {
    progress: report.progress,
    units: (report.units ?? []).map(u => ({
      ...u,
      kind: 'segment' as const,
      progress: u.state === 'verified' ? 1 : 0,
      durationSec: 0
    }))
  }
}
