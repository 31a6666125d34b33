import type { Config } from '../../config/schema.js'
import type { DataPaths } from '../../config/paths.js'
import type { EventBus } from '../../events.js'
import type { Logger } from '../../logger.js'
import type { MediaToolkit } from '../../media/toolkit.js'
import type { Mesh } from '../../mesh/types.js'
import type { BlobStore } from '../../store/blob-store.js'
import type { JobStore } from '../../store/job-store.js'
import type { ArrivingWork } from './arriving-work.js'
import type { DiskMonitor } from './disk-monitor.js'
import type { JobBus } from './job-bus.js'

/** What the owner and worker sides are built from; the composition root (node.ts) makes these. */
export interface JobComponents {
  config: Config
  paths: DataPaths
  store: JobStore
  /** This node's own blobs: pieces and results of jobs it owns. */
  blobs: BlobStore
  /**
   * Inputs fetched for remote owners. Kept apart from `blobs` so that the worker removing what it
   * fetched can never remove a blob of this node's own job with the same content, and vice versa.
   */
  fetched: BlobStore
  mesh: Mesh
  bus: JobBus
  /** ffmpeg operations, bound to this node's runner (a stand-in in the scale simulation). */
  media: MediaToolkit
  events: EventBus
  /** Free space of the data dir and the output folders in use, as a state (disk-monitor.ts). */
  disk: DiskMonitor
  /** Work a submission under way has said is still coming (arriving-work.ts). */
  arriving: ArrivingWork
  logger: Logger
  clock: () => number
}
