import {
  ErrorCodes,
  isFfmeshError,
  WireErrorCodes,
  type ConvertingUnit,
  type JobStatus,
  type NodeControlState,
  type NodeReport,
  type StatusReply,
  type StatusRequest
} from '@ffmesh/protocol'
import type { StatusSource } from '../mesh/status-protocol.js'
import type { JobStore } from '../store/job-store.js'
import type { JobView } from '../store/reduce.js'
import { countOwned } from './job-counts.js'
import { fillJobsPage, newestIdFirst, PAGE_BUDGET_BYTES, toWireJob, unitsWithin } from './status-pages.js'

export interface StatusSourceComponents {
  store: Pick<JobStore, 'job' | 'jobs'>
  self: string
  /** A job as `ffmesh status` shows it here. */
  jobStatus: (view: JobView) => JobStatus
  running: () => ConvertingUnit[]
  controlState: () => NodeControlState
  /** Other members pausing and resuming this node's worker (mesh.remoteControl). */
  remote: {
    enabled: boolean
    pause(from: string, drain: boolean): Promise<void>
    /** Throws REMOTE_CONTROL_REFUSED for a pause made at this node. */
    resume(from: string): Promise<void>
  }
}


/** The first index in `ids` (newest first) of an id older than `before`. */
function firstOlder (ids: readonly string[], before: string): number {
  let lo = 0
  let hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((ids[mid] as string) < before) hi = mid
    else lo = mid + 1
  }
  return lo
}

/**
 * This node's answers on the status protocol: only jobs it owns (a job handed to another node is
 * that node's to tell), and what its worker does. A listing's job ids are taken once per session,
 * at its first page, so paging through them skips and repeats nothing while jobs come and go.
 */
export function createStatusSource (c: StatusSourceComponents): StatusSource {
  const owned = (id: string): JobView | undefined => {
    const view = c.store.job(id)
    return view?.job.owner === c.self ? view : undefined
  }
  const notFound = (id: string): StatusReply => ({
    ok: false,
    code: WireErrorCodes.NOT_FOUND,
    message: `no job ${id} is owned here`
  })

  const report = (): NodeReport => {
    const { pausedBy, pausedFrom, paused, draining, schedule, running } = c.controlState()
    return { paused, draining, schedule, pausedBy, pausedFrom, running, converting: c.running() }
  }

  /** Every remote pause and resume is checked, done as asked, and answered with the new state. */
  const steer = async (
    peer: string,
    request: Extract<StatusRequest, { type: 'pause' | 'resume' }>
  ): Promise<StatusReply> => {
    if (!c.remote.enabled) {
      return {
        ok: false,
        code: WireErrorCodes.NOT_GRANTED,
        message: 'this node takes no pause or resume from other nodes (mesh.remoteControl: false)'
      }
    }
    try {
      if (request.type === 'pause') await c.remote.pause(peer, request.drain)
      else await c.remote.resume(peer)
    } catch (err) {
      if (isFfmeshError(err) && err.code === ErrorCodes.REMOTE_CONTROL_REFUSED) {
        return { ok: false, code: WireErrorCodes.NOT_GRANTED, message: err.message }
      }
      throw err
    }
    return { ok: true, type: request.type, node: report() }
  }

  return (peer) => {
    let listing: { state: string | null, ids: string[] } | null = null

    const jobsPage = (request: Extract<StatusRequest, { type: 'jobs' }>): StatusReply => {
      if (request.before == null || listing?.state !== request.state) {
        const views = c.store
          .jobs()
          .filter(v => v.job.owner === c.self && (request.state == null || v.job.state === request.state))
        listing = { state: request.state, ids: views.map(v => v.job.id).sort(newestIdFirst) }
      }
      const { ids } = listing
      const start = request.before == null ? 0 : firstOlder(ids, request.before)
      const statuses = function * (): Generator<JobStatus> {
        for (let i = start; i < ids.length; i++) {
          const view = owned(ids[i] as string)
          if (view != null) yield c.jobStatus(view)
        }
      }
      const jobs = fillJobsPage(statuses(), request.limit)
      const last = jobs[jobs.length - 1]
      const more = last != null && firstOlder(ids, last.id) < ids.length
      return { ok: true, type: 'jobs', jobs, next: more ? last.id : null }
    }

    return {
      answer (request) {
        switch (request.type) {
          case 'pause':
          case 'resume':
            return steer(peer, request)
          case 'jobs':
            return jobsPage(request)
          case 'job': {
            const view = owned(request.id)
            const job = view == null ? null : toWireJob(c.jobStatus(view), PAGE_BUDGET_BYTES)
            return job == null ? notFound(request.id) : { ok: true, type: 'job', job }
          }
          case 'units': {
            const view = owned(request.id)
            if (view == null) return notFound(request.id)
            const all = c.jobStatus(view).units
            const units = unitsWithin(all, request.from, PAGE_BUDGET_BYTES)
            const end = request.from + units.length
            return { ok: true, type: 'units', units, next: end < all.length && units.length > 0 ? end : null }
          }
          case 'counts':
            return { ok: true, type: 'counts', counts: countOwned(c.store.jobs(), c.self) }
          case 'node':
            return { ok: true, type: 'node', node: report() }
        }
      }
    }
  }
}
