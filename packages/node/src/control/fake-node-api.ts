import { existsSync } from 'node:fs'
import path from 'node:path'
import { DEFAULT_PROFILES, ErrorCodes, FfmeshError, newJobId, type JobState, type JobStatus, type PeerStatus } from '@ffmesh/protocol'
import type { WatchConfig } from '../config/schema.js'
import { createEventBus } from '../events.js'
import type { NodeApi, SubmitRequest, WatchStatus } from './api.js'

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
    info: () => ({ id: '12D3KooWFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake', name: 'fake', version: '0.0.0', dataDir: '/nonexistent', slots: 1, addresses: [], dashboard: null }),
    async submit (req) {
      if (!DEFAULT_PROFILES.some(p => p.name === req.profile)) throw new FfmeshError(ErrorCodes.UNKNOWN_PROFILE, `no profile ${req.profile}`)
      if (!existsSync(req.source)) throw new FfmeshError(ErrorCodes.SOURCE_NOT_FOUND, `${req.source} does not exist`)
      submitted.push(req)
      const id = newJobId()
      const now = Date.now()
      jobs.set(id, {
        id, state: 'queued', profile: req.profile, source: req.source, output: null, error: null, owner: 'fake',
        createdAt: now, updatedAt: now, waiting: null, progress: 0,
        units: [{ index: 0, kind: 'whole', state: 'pending', worker: null, attempts: 0, progress: 0, durationSec: 1 }]
      })
      bus.emit('job:submitted', { jobId: id })
      return { id }
    },
    listJobs: () => [...jobs.values()],
    getJob: get,
    async cancel (id) { return set(get(id), 'cancelled') },
    async retry (id) {
      const job = get(id)
      if (job.state !== 'failed' && job.state !== 'cancelled') throw new FfmeshError(ErrorCodes.JOB_NOT_RETRYABLE, `job ${id} is ${job.state}`)
      job.error = null
      return set(job, 'queued')
    },
    async fetchOutput (id, outDir) {
      const job = get(id)
      if (job.state !== 'done' || job.output == null) throw new FfmeshError(ErrorCodes.JOB_NOT_DONE, `job ${id} is ${job.state}`)
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
    onEvent: listener => bus.on(listener),
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
