import { existsSync } from 'node:fs'
import path from 'node:path'
import {
  DEFAULT_PROFILES,
  ErrorCodes,
  FfmeshError,
  JobStates,
  newJobId,
  type JobState,
  type JobStatus,
  type MeshJobStatus,
  type NodeControlState,
  type PeerStatus,
  type SubmitRequest,
  type WatchConfig,
  type WatchStatus
} from '@ffmesh/protocol'
import type { NodeApi } from '../../packages/node/src/control/api.js'
import { createEventBus } from '../../packages/node/src/events.js'
import { computeStats } from '../../packages/node/src/library/stats.js'

/**
 * An in-memory NodeApi for unit tests of the control server and the CLI (never used by the
 * node). It keeps the rules a person can observe: unknown profile, missing source, unknown job.
 */
export interface FakeNodeApi extends NodeApi {
  /** Moves a job to a state and emits the matching event, as the job engine would. */
  finish(id: string, state: JobState): void
  progress(id: string, progress: number): void
  readonly submitted: SubmitRequest[]
}

export function createFakeNodeApi (init: { peers?: PeerStatus[] } = {}): FakeNodeApi {
  const bus = createEventBus()
  const jobs = new Map<string, JobStatus>()
  const watches = new Map<string, WatchStatus>()
  const submitted: SubmitRequest[] = []
  const control: NodeControlState = {
    paused: false,
    draining: false,
    schedule: null,
    pausedBy: null,
    pausedFrom: null,
    running: 0
  }
  const meshJob = (job: JobStatus): MeshJobStatus => ({
    ...job,
    ownerName: 'fake',
    ownerAway: false,
    heardAt: job.updatedAt
  })
  const get = (id: string): JobStatus => {
    const job = jobs.get(id)
    if (job == null) throw new FfmeshError(ErrorCodes.JOB_NOT_FOUND, `no job ${id}`)
    return job
  }
  const set = (job: JobStatus, state: JobState): JobStatus => {
    job.state = state
    job.updatedAt = Date.now()
    bus.emit(`job:${state === 'queued' ? 'retried' : state}` as 'job:done', { jobId: job.id })
    return job
  }
  return {
    submitted,
    info: () => ({
      id: '12D3KooWFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake',
      name: 'fake',
      version: '0.0.0',
      dataDir: '/nonexistent',
      slots: 1,
      addresses: [],
      dashboard: null
    }),
    async submit (req) {
      if (!DEFAULT_PROFILES.some(p => p.name === req.profile)) {
        throw new FfmeshError(ErrorCodes.UNKNOWN_PROFILE, `no profile ${req.profile}`)
      }
      if (!existsSync(req.source)) throw new FfmeshError(ErrorCodes.SOURCE_NOT_FOUND, `${req.source} does not exist`)
      submitted.push(req)
      const id = newJobId()
      const now = Date.now()
      jobs.set(id, {
        id,
        state: 'queued',
        profile: req.profile,
        source: req.source,
        output: null,
        error: null,
        owner: 'fake',
        createdAt: now,
        updatedAt: now,
        waiting: null,
        progress: 0,
        units: [{ index: 0, kind: 'whole', state: 'pending', worker: null, attempts: 0, progress: 0, durationSec: 1 }]
      })
      bus.emit('job:submitted', { jobId: id })
      return { id }
    },
    listJobs: query => {
      const list = [...jobs.values()].filter(
        j => (query?.state == null || query.state.includes(j.state)) && j.id.startsWith(query?.idPrefix ?? '')
      )
      if (query?.order === 'newest') list.reverse()
      const offset = query?.offset ?? 0
      return list.slice(offset, query?.limit != null ? offset + query.limit : undefined)
    },
    jobSummary: () => {
      const byState = Object.fromEntries(JobStates.map(s => [s, 0])) as Record<JobState, number>
      for (const j of jobs.values()) byState[j.state]++
      return { total: jobs.size, byState }
    },
    getJob: get,
    async cancel (id) {
      return set(get(id), 'cancelled')
    },
    async retry (id) {
      const job = get(id)
      if (job.state !== 'failed' && job.state !== 'cancelled') {
        throw new FfmeshError(ErrorCodes.JOB_NOT_RETRYABLE, `job ${id} is ${job.state}`)
      }
      job.error = null
      return set(job, 'queued')
    },
    async remove (id) {
      const job = get(id)
      if (!['done', 'failed', 'cancelled'].includes(job.state)) {
        throw new FfmeshError(ErrorCodes.JOB_ACTIVE, `job ${id} is ${job.state}`)
      }
      jobs.delete(id)
      bus.emit('job:removed', { jobId: id })
      return { id, removed: true, blobsFreed: 0 }
    },
    async fetchOutput (id, outDir) {
      const job = get(id)
      if (job.state !== 'done' || job.output == null) {
        throw new FfmeshError(ErrorCodes.JOB_NOT_DONE, `job ${id} is ${job.state}`)
      }
      return { path: path.join(outDir ?? path.dirname(job.output), path.basename(job.output)) }
    },
    peers: () => init.peers ?? [],
    profiles: () => [...DEFAULT_PROFILES],
    watches: () => [...watches.values()],
    async addWatch (watch: WatchConfig) {
      const status: WatchStatus = { ...watch, state: 'active', reason: null, submitted: [], skipped: [] }
      watches.set(watch.path, status)
      return status
    },
    async removeWatch (p) {
      if (!watches.delete(p)) throw new FfmeshError(ErrorCodes.WATCH_NOT_FOUND, `${p} is not watched`)
    },
    libraries: () => [],
    async addLibrary () {
      throw new FfmeshError(ErrorCodes.LIBRARY_PATH_INVALID, 'the fake node has no libraries')
    },
    async removeLibrary (p) {
      throw new FfmeshError(ErrorCodes.LIBRARY_NOT_FOUND, `${p} is not a library`)
    },
    async scan () {
      throw new FfmeshError(ErrorCodes.LIBRARY_PATH_INVALID, 'the fake node scans nothing')
    },
    // The fake's jobs never convert anything: the statistics of a node without jobs.
    stats: () => computeStats([], Date.now(), () => null),
    onEvent: listener => bus.on(listener),
    async meshNodes () {
      const { id, name, version } = this.info()
      return [
        {
          id,
          name,
          version,
          self: true,
          online: true,
          lastSeen: Date.now(),
          slotsTotal: 1,
          slotsFree: 1,
          encoders: [],
          diskFree: 0,
          diskFull: false,
          paused: control.paused,
          draining: false,
          schedule: null,
          converting: []
        }
      ]
    },
    async meshJobs (query) {
      return [...jobs.values()]
        .filter(j => query.state == null || j.state === query.state)
        .reverse()
        .slice(0, query.limit)
        .map(meshJob)
    },
    async meshJob (id) {
      return meshJob(get(id))
    },
    async meshJobCounts () {
      return { ...this.jobSummary(), uncounted: [] }
    },
    async pause () {
      if (!control.paused) bus.emit('node:paused', { data: { by: 'user' } })
      Object.assign(control, { paused: true, pausedBy: 'user' })
      return { ...control }
    },
    async pauseNode (id, request) {
      if (id !== this.info().id) throw new FfmeshError(ErrorCodes.PEER_UNREACHABLE, `no node ${id}`)
      return await this.pause(request)
    },
    async resumeNode (id) {
      if (id !== this.info().id) throw new FfmeshError(ErrorCodes.PEER_UNREACHABLE, `no node ${id}`)
      return await this.resume()
    },
    async resume () {
      if (control.paused) bus.emit('node:resumed', { data: { by: 'user' } })
      Object.assign(control, { paused: false, pausedBy: null })
      return { ...control }
    },
    replayEvents: lastEventId => bus.since(lastEventId),
    finish (id, state) {
      const job = get(id)
      job.progress = state === 'done' ? 1 : job.progress
      if (state === 'done') job.output = job.source + '.out.mkv'
      if (state === 'failed') job.error = { code: ErrorCodes.CONVERT_FAILED, message: 'ffmpeg exited with 1' }
      for (const u of job.units) u.state = state === 'done' ? 'verified' : u.state
      set(job, state)
    },
    progress (id, progress) {
      const job = get(id)
      job.state = 'running'
      job.progress = progress
      job.units[0].state = 'converting'
      job.units[0].progress = progress
      bus.emit('unit:progress', { jobId: id, index: 0, data: { progress } })
    }
  }
}
