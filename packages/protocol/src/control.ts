import { z } from 'zod'
import { ErrorCodes, FfmeshError } from './errors.js'
import { MAX_NAME_LENGTH } from './limits.js'
import { unlessEmpty } from './query.js'
import type { Profile } from './profiles.js'
import type { MeshJobCounts, MeshJobStatus, MeshNodeStatus, NodeControlState } from './mesh-status.js'
import {
  JobListQuerySchema,
  JobSummaryQuerySchema,
  LibrarySchema,
  RemoveLibraryBodySchema,
  ScanBodySchema,
  type JobSummary,
  type LibraryStatus,
  type ScanReport,
  type StatsReport
} from './library.js'
import type { JobStatus, PeerStatus } from './status.js'
import { JobStates } from './units.js'

/**
 * The control API: the routes the CLI and the web dashboard call, with the schema of every
 * request body and the type of every reply. The node serves exactly this table
 * (packages/node/src/control), and clients build their requests from it, so a route cannot exist
 * on one side only.
 */

/** Paths cross the socket from a client on the same machine; it resolves them, the node insists. */
export const AbsolutePathSchema = z.string().min(1).max(4096)
  .refine(p => p.startsWith('/') && !p.includes('\0'), 'must be an absolute path')

export const SubmitBodySchema = z.strictObject({
  source: AbsolutePathSchema,
  profile: z.string().min(1).max(MAX_NAME_LENGTH),
  /** Absolute output folder; default: beside the source (or jobs.defaultOutputDir). */
  outDir: AbsolutePathSchema.optional(),
  /** Hand the whole job to the peer with the most capacity (submit and walk away). */
  handoff: z.boolean().optional(),
  /**
   * What the same submission sends after this file (`ffmesh submit a b c` says 2 files and their
   * bytes with a): the planner counts it as work to come and does not cut a batch's first file.
   */
  following: z.strictObject({
    files: z.number().int().min(0).max(10_000_000),
    bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
  }).optional()
})
export type SubmitRequest = z.infer<typeof SubmitBodySchema>

export const FetchBodySchema = z.strictObject({ outDir: AbsolutePathSchema.optional() })
export const EmptyBodySchema = z.strictObject({})

/** A watched folder, as config.yaml's `watch:` list and `ffmesh watch add` give it. */
export const WatchSchema = z.strictObject({
  path: z.string().min(1),
  profile: z.string().min(1),
  output: z.string().min(1),
  recursive: z.boolean().default(true),
  include: z.array(z.string()).default([]),
  exclude: z.array(z.string()).default([]),
  afterSuccess: z.enum(['keep', 'move', 'delete']).default('keep'),
  /** Where sources go with afterSuccess: move. */
  moveTo: z.string().optional(),
  settleSeconds: z.number().min(0).max(3600).default(5)
}).superRefine((w, ctx) => {
  if (w.afterSuccess === 'move' && w.moveTo == null) {
    ctx.addIssue({
      code: 'custom',
      path: ['moveTo'],
      message: 'afterSuccess: move needs moveTo, the folder to move sources into'
    })
  }
})
export type WatchConfig = z.infer<typeof WatchSchema>
/** What a client sends to add a watch: fields with defaults may be left out. */
export type WatchRequest = z.input<typeof WatchSchema>

/** `ffmesh pause --drain`: finish what runs, take nothing new; without it, running units go back too. */
export const PauseBodySchema = z.strictObject({ drain: z.boolean().optional() })
export type PauseRequest = z.infer<typeof PauseBodySchema>

/** Jobs in the mesh listing: newest first, at most this many (the listing waits for every peer). */
export const MAX_MESH_JOBS_LIMIT = 100_000

/** Query strings are text: `limit=50`. */
export const MeshJobsQuerySchema = z.strictObject({
  state: unlessEmpty(z.enum(JobStates)),
  limit: unlessEmpty(z.coerce.number().int().min(1).max(MAX_MESH_JOBS_LIMIT))
})
/** The mesh listing's filter as values; a client writes them as text, the node parses them back. */
export type MeshJobsQuery = z.output<typeof MeshJobsQuerySchema>

export const RemoveWatchBodySchema = z.strictObject({ path: AbsolutePathSchema })

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
  /** The web dashboard's address (`http://127.0.0.1:7676/`), or null when it is off or failed to start. */
  dashboard: string | null
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE'

export interface RouteSpec {
  method: HttpMethod
  /** `:name` segments are parameters, percent-encoded on the wire. */
  path: string
  /** Without a body schema the route takes no body. */
  body?: z.ZodType
  /** The query string's parameters (strings on the wire); without a schema any query is ignored. */
  query?: z.ZodType
}

export const ControlRoutes = {
  nodeInfo: { method: 'GET', path: '/v1/node' },
  submit: { method: 'POST', path: '/v1/jobs', body: SubmitBodySchema },
  /** Oldest first unless `order=newest`; `state`, `batch`, `offset` and `limit` page and filter. */
  listJobs: { method: 'GET', path: '/v1/jobs', query: JobListQuerySchema },
  /** Counts by state without the jobs themselves (of one scan with `batch`). */
  jobSummary: { method: 'GET', path: '/v1/job-summary', query: JobSummaryQuerySchema },
  getJob: { method: 'GET', path: '/v1/jobs/:id' },
  removeJob: { method: 'DELETE', path: '/v1/jobs/:id' },
  cancelJob: { method: 'POST', path: '/v1/jobs/:id/cancel', body: EmptyBodySchema },
  retryJob: { method: 'POST', path: '/v1/jobs/:id/retry', body: EmptyBodySchema },
  fetchOutput: { method: 'POST', path: '/v1/jobs/:id/fetch', body: FetchBodySchema },
  peers: { method: 'GET', path: '/v1/peers' },
  profiles: { method: 'GET', path: '/v1/profiles' },
  watches: { method: 'GET', path: '/v1/watches' },
  addWatch: { method: 'POST', path: '/v1/watches', body: WatchSchema },
  removeWatch: { method: 'DELETE', path: '/v1/watches', body: RemoveWatchBodySchema },
  /** Every node of the mesh, this one first; a node that went away is listed as away. */
  meshNodes: { method: 'GET', path: '/v1/mesh/nodes' },
  /** Every job in the mesh, newest first, from every node that answers (its last state if not). */
  meshJobs: { method: 'GET', path: '/v1/mesh/jobs', query: MeshJobsQuerySchema },
  /** How many jobs the whole mesh holds in each state, past any listing's limit. */
  meshJobCounts: { method: 'GET', path: '/v1/mesh/job-counts' },
  /** Any job in the mesh, asked of its owner. */
  meshJob: { method: 'GET', path: '/v1/mesh/jobs/:id' },
  /** This node's worker takes nothing new (kept across restarts); see PauseBodySchema. */
  pause: { method: 'POST', path: '/v1/node/pause', body: PauseBodySchema },
  resume: { method: 'POST', path: '/v1/node/resume', body: EmptyBodySchema },
  /** Another node's worker, through the status protocol (that node's mesh.remoteControl decides). */
  pauseNode: { method: 'POST', path: '/v1/mesh/nodes/:id/pause', body: PauseBodySchema },
  resumeNode: { method: 'POST', path: '/v1/mesh/nodes/:id/resume', body: EmptyBodySchema },
  libraries: { method: 'GET', path: '/v1/libraries' },
  addLibrary: { method: 'POST', path: '/v1/libraries', body: LibrarySchema },
  removeLibrary: { method: 'DELETE', path: '/v1/libraries', body: RemoveLibraryBodySchema },
  scan: { method: 'POST', path: '/v1/scan', body: ScanBodySchema },
  stats: { method: 'GET', path: '/v1/stats' },
  /** Server-sent events: every node event, as `event: <type>` and `data: <NodeEvent JSON>`. */
  events: { method: 'GET', path: '/v1/events' }
} as const satisfies Record<string, RouteSpec>

export type RouteName = keyof typeof ControlRoutes

/** What each route answers with (a 2xx JSON body); errors are `{ error: ErrorBody }`. */
export interface ControlReplies {
  nodeInfo: NodeInfo
  submit: { id: string }
  listJobs: JobStatus[]
  jobSummary: JobSummary
  getJob: JobStatus
  removeJob: RemovedJob
  cancelJob: JobStatus
  retryJob: JobStatus
  fetchOutput: { path: string }
  peers: PeerStatus[]
  profiles: Profile[]
  watches: WatchStatus[]
  addWatch: WatchStatus
  removeWatch: { removed: string }
  meshNodes: MeshNodeStatus[]
  meshJobs: MeshJobStatus[]
  meshJobCounts: MeshJobCounts
  meshJob: MeshJobStatus
  pause: NodeControlState
  resume: NodeControlState
  pauseNode: NodeControlState
  resumeNode: NodeControlState
  libraries: LibraryStatus[]
  addLibrary: LibraryStatus
  removeLibrary: { removed: string }
  scan: ScanReport
  stats: StatsReport
  events: never
}

/** The request body a route takes, as a client writes it. */
export type RouteBody<R extends RouteName> = (typeof ControlRoutes)[R] extends { body: z.ZodType }
  ? z.input<(typeof ControlRoutes)[R]['body']>
  : undefined

/** The query a route takes, as a client writes it. */
export type RouteQuery<R extends RouteName> = (typeof ControlRoutes)[R] extends { query: z.ZodType }
  ? z.input<(typeof ControlRoutes)[R]['query']>
  : undefined

/** `/v1/jobs/:id` with `{ id: 'X Y' }` → `/v1/jobs/X%20Y`. */
export function routePath (route: RouteSpec, params: Record<string, string> = {}): string {
  return route.path.replace(/:([a-z]+)/gi, (_, name: string) => {
    const value = params[name]
    if (value == null) throw new TypeError(`route ${route.path} needs the parameter ${name}`)
    return encodeURIComponent(value)
  })
}

/**
 * Matches a request path against a route's pattern; returns the decoded parameters, or null when
 * the path is another route's. A parameter that is not valid percent-encoding is the client's
 * mistake: BAD_ARGUMENTS, not an internal error.
 */
export function matchRoutePath (pattern: string, pathname: string): Record<string, string> | null {
  const want = pattern.split('/')
  const got = pathname.split('/')
  if (want.length !== got.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string
    const g = got[i] as string
    if (w.startsWith(':')) {
      if (g === '') return null
      try {
        params[w.slice(1)] = decodeURIComponent(g)
      } catch {
        throw new FfmeshError(
          ErrorCodes.BAD_ARGUMENTS,
          `the ${w.slice(1)} in ${pathname} is not valid percent-encoding`
        )
      }
    } else if (w !== g) {
      return null
    }
  }
  return params
}
