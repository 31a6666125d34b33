import { request, type IncomingMessage } from 'node:http'
import type { JobStatus, NodeEvent, PeerStatus, Profile } from '@ffmesh/protocol'
import { ErrorCodes, FfmeshError, isFfmeshError, type ErrorBody } from '@ffmesh/protocol'
import type { NodeInfo, RemovedJob, SubmitRequest, WatchStatus } from '@ffmesh/node'
import { createSseParser } from './sse.js'

/** The WatchConfig the node accepts; fields with defaults may be left out. */
export interface WatchRequest { path: string, profile: string, output: string, recursive?: boolean, afterSuccess?: 'keep' | 'move' | 'delete', moveTo?: string }

export interface ControlClient {
  readonly socketPath: string
  info(options?: { signal?: AbortSignal }): Promise<NodeInfo>
  submit(req: SubmitRequest, options?: { signal?: AbortSignal }): Promise<{ id: string }>
  listJobs(options?: { signal?: AbortSignal }): Promise<JobStatus[]>
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
  /** Subscribes to node events; resolves once subscribed, so nothing after it is missed. */
  openEvents(options?: { signal?: AbortSignal }): Promise<EventSubscription>
}

/** Node events until `close()`, the signal aborts or the node goes away (then iteration ends). */
export interface EventSubscription extends AsyncIterable<NodeEvent> { close(): void }

/** Speaks the node's control API (HTTP over its unix socket). `dataDir` only makes errors helpful. */
export function createControlClient (init: { socketPath: string, dataDir: string }): ControlClient {
  const { socketPath, dataDir } = init

  function notRunning (err: NodeJS.ErrnoException): FfmeshError {
    const start = `start one with \`ffmesh node --data-dir ${dataDir}\` (or \`systemctl start ffmesh\` where it is installed as a service)`
    if (err.code === 'EACCES') return new FfmeshError(ErrorCodes.NODE_NOT_RUNNING, `cannot open the node's control socket ${socketPath} (permission denied); run ffmesh as the user the node runs as`)
    return new FfmeshError(ErrorCodes.NODE_NOT_RUNNING, `no ffmesh node is running for data dir ${dataDir} (tried control socket ${socketPath}); ${start}`)
  }

  function open (method: string, path: string, body: unknown, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body)
      const req = request({
        socketPath,
        path,
        method,
        signal,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
      }, resolve)
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK'].includes(err.code ?? '') ? notRunning(err) : err)
      })
      req.end(payload)
    })
  }

  async function call<T> (method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await open(method, path, body, signal)
    const chunks: Buffer[] = []
    for await (const chunk of res) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new FfmeshError(ErrorCodes.INTERNAL, `the node answered ${method} ${path} with something that is not JSON (HTTP ${res.statusCode})`)
    }
    if ((res.statusCode ?? 500) >= 400) throw errorFrom(parsed, res.statusCode)
    return parsed as T
  }

  const job = (id: string): string => `/v1/jobs/${encodeURIComponent(id)}`

  return {
    socketPath,
    info: (o) => call('GET', '/v1/node', undefined, o?.signal),
    submit: (req, o) => call('POST', '/v1/jobs', req, o?.signal),
    listJobs: (o) => call('GET', '/v1/jobs', undefined, o?.signal),
    getJob: (id, o) => call('GET', job(id), undefined, o?.signal),
    cancel: (id, o) => call('POST', `${job(id)}/cancel`, {}, o?.signal),
    retry: (id, o) => call('POST', `${job(id)}/retry`, {}, o?.signal),
    remove: (id, o) => call('DELETE', job(id), undefined, o?.signal),
    fetchOutput: (id, outDir, o) => call('POST', `${job(id)}/fetch`, outDir != null ? { outDir } : {}, o?.signal),
    peers: (o) => call('GET', '/v1/peers', undefined, o?.signal),
    profiles: (o) => call('GET', '/v1/profiles', undefined, o?.signal),
    watches: (o) => call('GET', '/v1/watches', undefined, o?.signal),
    addWatch: (w, o) => call('POST', '/v1/watches', w, o?.signal),
    removeWatch: async (path, o) => { await call('DELETE', '/v1/watches', { path }, o?.signal) },
    openEvents: async (o) => subscribe(await open('GET', '/v1/events', undefined, o?.signal))
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

async function subscribe (res: IncomingMessage): Promise<EventSubscription> {
  if (res.statusCode !== 200) {
    res.resume()
    throw new FfmeshError(ErrorCodes.INTERNAL, `the node refused the event stream (HTTP ${res.statusCode})`)
  }
  res.setEncoding('utf8')
  const parse = createSseParser()
  async function * iterate (): AsyncGenerator<NodeEvent> {
    try {
      for await (const chunk of res) {
        for (const event of parse(chunk as string)) {
          try {
            yield JSON.parse(event.data) as NodeEvent
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
  return { [Symbol.asyncIterator]: iterate, close: () => { res.destroy() } }
}
