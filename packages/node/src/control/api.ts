import type { Replay } from '../events.js'
import type {
  JobListFilter,
  JobStatus,
  JobSummary,
  LibraryConfig,
  LibraryStatus,
  MeshJobsQuery,
  MeshJobCounts,
  MeshJobStatus,
  MeshNodeStatus,
  NodeControlState,
  NodeEvent,
  NodeInfo,
  PauseRequest,
  PeerStatus,
  Profile,
  RemovedJob,
  ScanBody,
  ScanReport,
  StatsReport,
  SubmitRequest,
  WatchConfig,
  WatchStatus
} from '@ffmesh/protocol'

export type { NodeInfo, RemovedJob, SubmitRequest, WatchStatus } from '@ffmesh/protocol'

/**
 * What the control API serves. The composition root (node.ts) implements it; the HTTP server in
 * server.ts only maps routes to these calls, so the same operations are testable without HTTP.
 * Every method throws FfmeshError with a stable code for bad input.
 */
export interface NodeApi {
  info(): NodeInfo
  submit(req: SubmitRequest, options?: { signal?: AbortSignal }): Promise<{ id: string }>
  /** Jobs in submission order (or newest first), filtered and paged; all of them without a query. */
  listJobs(query?: JobListFilter): JobStatus[]
  jobSummary(batch?: string): JobSummary
  getJob(id: string): JobStatus
  cancel(id: string): Promise<JobStatus>
  retry(id: string): Promise<JobStatus>
  /**
   * `ffmesh rm`: removes a finished, failed or cancelled job's record, blobs and held results (JOB_ACTIVE otherwise).
   */
  remove(id: string): Promise<RemovedJob>
  /** Copies the verified output into outDir (default: the job's own output folder) and returns its path. */
  fetchOutput(id: string, outDir?: string, options?: { signal?: AbortSignal }): Promise<{ path: string }>
  peers(): PeerStatus[]
  profiles(): Profile[]
  watches(): WatchStatus[]
  addWatch(watch: WatchConfig): Promise<WatchStatus>
  removeWatch(path: string): Promise<void>
  /** Every node of the mesh, this one first (peers that went away are listed as away). */
  meshNodes(options?: { signal?: AbortSignal }): Promise<MeshNodeStatus[]>
  /** Every job in the mesh, newest first; jobs of an owner that does not answer are its last state. */
  meshJobs(query: MeshJobsQuery, options?: { signal?: AbortSignal }): Promise<MeshJobStatus[]>
  /** Any job in the mesh, from its owner. */
  meshJob(id: string, options?: { signal?: AbortSignal }): Promise<MeshJobStatus>
  /** How many jobs the mesh holds in each state, asked of every node. */
  meshJobCounts(options?: { signal?: AbortSignal }): Promise<MeshJobCounts>
  /** This node's worker takes nothing new; without drain its running units go back to their owners. */
  pause(request: PauseRequest, options?: { signal?: AbortSignal }): Promise<NodeControlState>
  resume(options?: { signal?: AbortSignal }): Promise<NodeControlState>
  /** The same for another node of the mesh (or this one, by its own id). */
  pauseNode(id: string, request: PauseRequest, options?: { signal?: AbortSignal }): Promise<NodeControlState>
  resumeNode(id: string, options?: { signal?: AbortSignal }): Promise<NodeControlState>
  libraries(): LibraryStatus[]
  addLibrary(library: LibraryConfig): Promise<LibraryStatus>
  removeLibrary(path: string): Promise<void>
  scan(req: ScanBody, options?: { signal?: AbortSignal }): Promise<ScanReport>
  stats(): StatsReport
  /** Subscribe to node events; returns the unsubscribe function. */
  onEvent(listener: (event: NodeEvent) => void): () => void
  /** The events after a client's `Last-Event-ID`, or a reset when the node can no longer replay them. */
  replayEvents(lastEventId: string): Replay
}
