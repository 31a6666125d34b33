import type { IncomingMessage, ServerResponse } from 'node:http'
import { ControlRoutes, ErrorCodes, FfmeshError, isFfmeshError } from '@ffmesh/protocol'
import type { Logger } from '../logger.js'
import type { NodeApi } from './api.js'
import { LAST_EVENT_ID_PARAM, lastEventIdOf, openEventStream } from './event-stream.js'
import { readJsonBody, requestUrl, sendError, sendJson } from './http-io.js'
import { handleRoute, matchRoute, parseQuery, parseWith } from './routes.js'

/**
 * Event streams one dispatcher (the control socket's, the dashboard's) serves at once. Each holds a
 * listener and up to SSE_MAX_QUEUED_BYTES for a client that reads slowly, so a page or script that
 * opens streams without end would hold the node's memory; a person's tabs and followers are a few.
 */
export const MAX_EVENT_STREAMS = 128

export interface ControlDispatcher {
  /** Answers one control API request (JSON routes and the event stream); never throws. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>
  /** Ends every open event stream and aborts requests in flight. */
  close(): void
}

/**
 * The control API's request handling, apart from the transport: the unix socket server and the
 * web dashboard's HTTP server both answer through one dispatcher, so both speak exactly the
 * protocol's route table.
 */
export function createControlDispatcher (init: {
  api: NodeApi
  logger: Logger
  heartbeatMs?: number
}): ControlDispatcher {
  const { api, logger } = init
  const streams = new Set<() => void>()
  const inFlight = new AbortController()

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    let pathname = '?'
    // A client that hangs up before its answer stops what it asked for (a dry-run scan probing a
    // library would go on, and hold the scans queued behind it), as does the node stopping. Not
    // AbortSignal.any over the long-lived stop signal: some Node 22 releases keep every such
    // signal for as long as that one lives, a leak per request.
    const request = new AbortController()
    const stopping = (): void => { request.abort(inFlight.signal.reason) }
    inFlight.signal.addEventListener('abort', stopping, { once: true })
    res.once('close', () => {
      inFlight.signal.removeEventListener('abort', stopping)
      if (!res.writableFinished) request.abort(new Error('the client closed the connection'))
    })
    const signal = request.signal
    try {
      const url = requestUrl(req)
      pathname = url.pathname
      if (pathname === ControlRoutes.events.path) {
        if (method !== 'GET') {
          throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `use GET for ${ControlRoutes.events.path}`)
        }
        parseQuery(undefined, url.searchParams, pathname, [LAST_EVENT_ID_PARAM])
        if (streams.size >= MAX_EVENT_STREAMS) {
          throw new FfmeshError(
            ErrorCodes.TOO_MANY_STREAMS,
            `this node serves ${MAX_EVENT_STREAMS} event streams at once already; close a dashboard tab or an ffmesh status --watch (or --wait), then try again`
          )
        }
        const close = openEventStream(api, res, { heartbeatMs: init.heartbeatMs, lastEventId: lastEventIdOf(req, url) })
        streams.add(close)
        res.on('close', () => streams.delete(close))
        return
      }
      const match = matchRoute(method, pathname)
      if (!('route' in match)) {
        if (match.allowed.length > 0) {
          res.setHeader('allow', match.allowed.join(', '))
          sendJson(res, 405, {
            error: {
              code: ErrorCodes.BAD_ARGUMENTS,
              message: `${method} is not allowed on ${pathname}; use ${match.allowed.join(' or ')}`
            }
          })
          return
        }
        throw new FfmeshError(
          ErrorCodes.ROUTE_NOT_FOUND,
          `no control API route ${method} ${pathname}; the client and the node may be different versions`
        )
      }
      const body =
        match.route.body != null ? parseWith(match.route.body, await readJsonBody(req), 'request') : undefined
      const query = parseQuery(match.route.query, url.searchParams, pathname)
      const result = await handleRoute(api, match, body, query, signal)
      sendJson(res, result.status, result.body)
    } catch (caught) {
      let err = caught
      if (!isFfmeshError(err) && signal.aborted) {
        if (!inFlight.signal.aborted) {
          logger.debug({ method, path: pathname }, 'control request stopped: its client left')
          return
        }
        err = new FfmeshError(ErrorCodes.NODE_NOT_RUNNING, 'the node is stopping; ask again once it is back')
      }
      if (!isFfmeshError(err)) logger.error({ err, method, path: pathname }, 'control request failed')
      else logger.debug({ code: err.code, method, path: pathname }, 'control request refused')
      sendError(res, err)
    }
  }

  return {
    handle,
    close () {
      inFlight.abort()
      for (const close of streams) close()
      streams.clear()
    }
  }
}
