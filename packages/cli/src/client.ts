import { request, type IncomingMessage } from 'node:http'
import {
  ControlRoutes,
  ErrorCodes,
  FfmeshError,
  isFfmeshError,
  routePath,
  type ControlReplies,
  type ErrorBody,
  type EventStreamReset,
  type JobListQuery,
  type JobStatus,
  type JobSummary,
  type LibraryRequest,
  type LibraryStatus,
  type MeshJobsQuery,
  type MeshJobCounts,
  type MeshJobStatus,
  type MeshNodeStatus,
  type NodeControlState,
  type NodeEvent,
  type NodeInfo,
  type PauseRequest,
  type PeerStatus,
  type Profile,
  type RemovedJob,
  type RouteBody,
  type RouteName,
  type ScanReport,
  type ScanRequest,
  type StatsReport,
  type SubmitRequest,
  type WatchRequest,
  type WatchStatus
} from '@ffmesh/protocol'
import { createSseParser } from './sse.js'

export interface ControlClient {
  readonly socketPath: string
  info(options?: { signal?: AbortSignal }): Promise<NodeInfo>
  submit(req: SubmitRequest, options?: { signal?: AbortSignal }): Promise<{ id: string }>
  listJobs(options?: { signal?: AbortSignal, query?: JobListQuery }): Promise<JobStatus[]>
  jobSummary(options?: { signal?: AbortSignal, batch?: string }): Promise<JobSummary>
  getJob(id: string, options?: { signal?: AbortSignal }): Promise<JobStatus>
  cancel(id: string, options?: { signal?: AbortSignal }): Promise<JobStatus>
  retry(id: string, options?: { signal?: AbortSignal }): Promise<JobStatus>
  remove(id: string, options?: { signal?: AbortSignal }): Promise<RemovedJob>
  fetchOutput(id: string, outDir: string | undefined, options?: { signal?: AbortSignal }): Promise<{ path: string }>
  peers(options?: { signal?: AbortSignal }): Promise<PeerStatus[]>
  profiles(options?: { signal?: AbortSignal }): Promise<Profile[]>
  watches(options?: { signal?: AbortSignal }): Promise<WatchStatus[]>
  addWatch(watch: WatchRequest, options?: { signal?: AbortSignal }): Promise<WatchStatus>
  removeWatch(path: string, options?: { signal?: AbortSignal }): Promise<void>
  meshNodes(options?: { signal?: AbortSignal }): Promise<MeshNodeStatus[]>
  meshJobs(query?: MeshJobsQuery, options?: { signal?: AbortSignal }): Promise<MeshJobStatus[]>
  meshJob(id: string, options?: { signal?: AbortSignal }): Promise<MeshJobStatus>
  meshJobCounts(options?: { signal?: AbortSignal }): Promise<MeshJobCounts>
  pause(request: PauseRequest, options?: { signal?: AbortSignal }): Promise<NodeControlState>
  resume(options?: { signal?: AbortSignal }): Promise<NodeControlState>
  pauseNode(id: string, request: PauseRequest, options?: { signal?: AbortSignal }): Promise<NodeControlState>
  resumeNode(id: string, options?: { signal?: AbortSignal }): Promise<NodeControlState>
  libraries(options?: { signal?: AbortSignal }): Promise<LibraryStatus[]>
  addLibrary(library: LibraryRequest, options?: { signal?: AbortSignal }): Promise<LibraryStatus>
  removeLibrary(path: string, options?: { signal?: AbortSignal }): Promise<void>
  scan(req: ScanRequest, options?: { signal?: AbortSignal }): Promise<ScanReport>
  stats(options?: { signal?: AbortSignal }): Promise<StatsReport>
  /**
   * Subscribes to node events; resolves once subscribed, so nothing after it is missed. With
   * `lastEventId` the node first replays what came after it, or sends a reset.
   */
  openEvents(options?: { signal?: AbortSignal, lastEventId?: string | null }): Promise<EventSubscription>
}

/**
 * Node events until `close()`, the signal aborts or the node goes away (then iteration ends). A
 * `reset` says events were missed (the node restarted, or the gap was too long): read state again.
 */
export interface EventSubscription extends AsyncIterable<NodeEvent | EventStreamReset> {
  close(): void
  /** The id of the last event received, to resume from with a new subscription. */
  readonly lastEventId: string | null
}

/** Speaks the node's control API (HTTP over its unix socket). `dataDir` only makes errors helpful. */
export function createControlClient (init: { socketPath: string, dataDir: string }): ControlClient {
  const { socketPath, dataDir } = init

  function notRunning (err: NodeJS.ErrnoException): FfmeshError {
    const start = `start one with \`ffmesh node --data-dir ${dataDir}\` (or \`systemctl start ffmesh\` where it is installed as a service)`
    // The socket's error goes with it: a socket this user may not open is not a node that is away.
    const details = { socketError: err.code }
    if (err.code === 'EACCES') {
      return new FfmeshError(
        ErrorCodes.NODE_NOT_RUNNING,
        `cannot open the node's control socket ${socketPath} (permission denied); run ffmesh as the user the node runs as`,
        details
      )
    }
    return new FfmeshError(
      ErrorCodes.NODE_NOT_RUNNING,
      `no ffmesh node is running for data dir ${dataDir} (tried control socket ${socketPath}); ${start}`,
      details
    )
  }

  function open (
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
    extraHeaders: Record<string, string> = {}
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body)
      const req = request(
        {
          socketPath,
          path,
          method,
          signal,
          headers: {
            ...extraHeaders,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) })
          }
        },
        resolve
      )
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK'].includes(err.code ?? '') ? notRunning(err) : err)
      })
      req.end(payload)
    })
  }

  /** One request on the protocol's route table; resolves with the route's reply type. */
  async function call<R extends RouteName> (
    name: R,
    request: {
      params?: Record<string, string>
      body?: RouteBody<R>
      query?: Record<string, string | number | boolean | undefined>
    },
    signal?: AbortSignal
  ): Promise<ControlReplies[R]> {
    const route = ControlRoutes[name]
    const search = new URLSearchParams()
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) search.set(k, String(v))
    const target = routePath(route, request.params) + (search.size > 0 ? `?${search.toString()}` : '')
    const res = await open(route.method, target, 'body' in route ? (request.body ?? {}) : undefined, signal)
    const chunks: Buffer[] = []
    for await (const chunk of res) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new FfmeshError(
        ErrorCodes.INTERNAL,
        `the node answered ${route.method} ${target} with something that is not JSON (HTTP ${res.statusCode})`
      )
    }
    if ((res.statusCode ?? 500) >= 400) throw errorFrom(parsed, res.statusCode)
    return parsed as ControlReplies[R]
  }

  const job = (id: string): { params: { id: string } } => ({ params: { id } })

  return {
    socketPath,
    info: o => call('nodeInfo', {}, o?.signal),
    submit: (req, o) => call('submit', { body: req }, o?.signal),
    listJobs: o =>
      call('listJobs', { query: o?.query as Record<string, string | number | undefined> | undefined }, o?.signal),
    jobSummary: o => call('jobSummary', { query: { batch: o?.batch } }, o?.signal),
    getJob: (id, o) => call('getJob', job(id), o?.signal),
    remove: (id, o) => call('removeJob', job(id), o?.signal),
    cancel: (id, o) => call('cancelJob', job(id), o?.signal),
    retry: (id, o) => call('retryJob', job(id), o?.signal),
    fetchOutput: (id, outDir, o) =>
      call('fetchOutput', { ...job(id), body: outDir != null ? { outDir } : {} }, o?.signal),
    peers: o => call('peers', {}, o?.signal),
    profiles: o => call('profiles', {}, o?.signal),
    watches: o => call('watches', {}, o?.signal),
    addWatch: (w, o) => call('addWatch', { body: w }, o?.signal),
    removeWatch: async (path, o) => {
      await call('removeWatch', { body: { path } }, o?.signal)
    },
    meshNodes: o => call('meshNodes', {}, o?.signal),
    meshJobs: (q, o) => call('meshJobs', { query: q }, o?.signal),
    meshJob: (id, o) => call('meshJob', job(id), o?.signal),
    meshJobCounts: o => call('meshJobCounts', {}, o?.signal),
    pause: (req, o) => call('pause', { body: req }, o?.signal),
    resume: o => call('resume', { body: {} }, o?.signal),
    pauseNode: (id, req, o) => call('pauseNode', { params: { id }, body: req }, o?.signal),
    resumeNode: (id, o) => call('resumeNode', { params: { id }, body: {} }, o?.signal),
    libraries: o => call('libraries', {}, o?.signal),
    addLibrary: (l, o) => call('addLibrary', { body: l }, o?.signal),
    removeLibrary: async (path, o) => {
      await call('removeLibrary', { body: { path } }, o?.signal)
    },
    scan: (req, o) => call('scan', { body: req }, o?.signal),
    stats: o => call('stats', {}, o?.signal),
    openEvents: async o =>
      subscribe(
        await open(
          ControlRoutes.events.method,
          ControlRoutes.events.path,
          undefined,
          o?.signal,
          o?.lastEventId != null ? { 'last-event-id': o.lastEventId } : {}
        )
      )
  }
}

function errorFrom (parsed: unknown, status: number | undefined): FfmeshError {
  const body = (parsed as { error?: ErrorBody } | null)?.error
  const err = new FfmeshError(ErrorCodes.INTERNAL, body?.message ?? `the node answered HTTP ${status}`)
  if (body != null && isFfmeshError(Object.assign(new Error(), { code: body.code }))) {
    return new FfmeshError(body.code, body.message)
  }
  return err
}

/** A refusal's body is a small JSON error; more than this is not one. */
const MAX_REFUSAL_BYTES = 64 * 1024

/** Whether the node refused an event stream because it serves as many as it takes (poll instead). */
export function streamsFull (err: unknown): boolean {
  return isFfmeshError(err) && err.code === ErrorCodes.TOO_MANY_STREAMS
}

async function subscribe (res: IncomingMessage): Promise<EventSubscription> {
  if (res.statusCode !== 200) {
    // The node says why (TOO_MANY_STREAMS, a stopping node): its code, not INTERNAL.
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of res) {
      size += (chunk as Buffer).length
      if (size > MAX_REFUSAL_BYTES) break
      chunks.push(chunk as Buffer)
    }
    res.destroy()
    let parsed: unknown = null
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      // Not the node's JSON error: said as the HTTP status below.
    }
    throw errorFrom(parsed, res.statusCode)
  }
  res.setEncoding('utf8')
  const parse = createSseParser()
  let lastEventId: string | null = null
  async function * iterate (): AsyncGenerator<NodeEvent | EventStreamReset> {
    try {
      for await (const chunk of res) {
        for (const event of parse(chunk as string)) {
          lastEventId = event.id
          try {
            yield JSON.parse(event.data) as NodeEvent | EventStreamReset
          } catch {
            // A malformed event is skipped; the next status fetch corrects any view built on it.
          }
        }
      }
    } catch {
      // The node went away or we closed the stream: iteration simply ends.
    } finally {
      res.destroy()
    }
  }
  return { [Symbol.asyncIterator]: iterate, close: () => { res.destroy() }, get lastEventId () { return lastEventId } }
}
