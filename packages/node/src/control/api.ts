import type { Replay } from '../events.js'
import type { JobStatus, NodeEvent, NodeInfo, PeerStatus, Profile, SubmitRequest, WatchConfig, WatchStatus } from '@ffmesh/protocol'

export type { NodeInfo, SubmitRequest, WatchStatus } from '@ffmesh/protocol'

/**
 * What the control API serves. The composition root (node.ts) implements it; the HTTP server in
 * server.ts only maps routes to these calls, so the same operations are testable without HTTP.
 * Every method throws FfmeshError with a stable code for bad input.
 */
export interface NodeApi {
  info(): NodeInfo
  submit(req: SubmitRequest, options?: { signal?: AbortSignal }): Promise<{ id: string }>
  listJobs(): JobStatus[]
  getJob(id: string): JobStatus
  cancel(id: string): Promise<JobStatus>
  retry(id: string): Promise<JobStatus>
  /** Copies the verified output into outDir (default: the job's own output folder) and returns its path. */
  fetchOutput(id: string, outDir?: string, options?: { signal?: AbortSignal }): Promise<{ path: string }>
  peers(): PeerStatus[]
  profiles(): Profile[]
  watches(): WatchStatus[]
  addWatch(watch: WatchConfig): Promise<WatchStatus>
  removeWatch(path: string): Promise<void>
  /** Subscribe to node events; returns the unsubscribe function. */
  onEvent(listener: (event: NodeEvent) => void): () => void
  /** The events after a client's `Last-Event-ID`, or a reset when the node can no longer replay them. */
  replayEvents(lastEventId: string): Replay
}
