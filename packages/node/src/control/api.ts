import type { JobStatus, NodeEvent, PeerStatus, Profile } from '@ffmesh/protocol'
import type { WatchConfig } from '../config/schema.js'

/**
 * What the control API serves. The composition root (node.ts) implements it; the HTTP server in
 * server.ts only maps routes to these calls, so the same operations are testable without HTTP.
 * Every method throws FfmeshError with a stable code for bad input.
 */
export interface SubmitRequest {
  /** Absolute path on the node's machine. */
  source: string
  profile: string
  /** Absolute output folder; default: beside the source (or jobs.defaultOutputDir). */
  outDir?: string
  /** Hand the whole job to the peer with the most capacity (submit and walk away). */
  handoff?: boolean
}

export interface WatchStatus extends WatchConfig {
  state: 'active' | 'paused'
  reason: string | null
  submitted: Array<{ file: string, jobId: string }>
  skipped: Array<{ file: string, code: string, message: string }>
}

/** What `ffmesh rm --json` prints. */
export interface RemovedJob { id: string, removed: true, blobsFreed: number }
export interface NodeInfo {
  id: string
  name: string
  version: string
  dataDir: string
  slots: number
  addresses: string[]
}

export interface NodeApi {
  info(): NodeInfo
  submit(req: SubmitRequest, options?: { signal?: AbortSignal }): Promise<{ id: string }>
  listJobs(): JobStatus[]
  getJob(id: string): JobStatus
  cancel(id: string): Promise<JobStatus>
  retry(id: string): Promise<JobStatus>
  /** `ffmesh rm`: removes a finished, failed or cancelled job's record, blobs and held results (JOB_ACTIVE otherwise). */
  remove(id: string): Promise<RemovedJob>
  /** Copies the verified output into outDir (default: the job's own output folder) and returns its path. */
  fetchOutput(id: string, outDir?: string, options?: { signal?: AbortSignal }): Promise<{ path: string }>
  peers(): PeerStatus[]
  profiles(): Profile[]
  watches(): WatchStatus[]
  addWatch(watch: WatchConfig): Promise<WatchStatus>
  removeWatch(path: string): Promise<void>
  /** Subscribe to node events; returns the unsubscribe function. */
  onEvent(listener: (event: NodeEvent) => void): () => void
}
