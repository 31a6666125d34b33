import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { chmod, lstat, unlink } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, FfmeshError, isFfmeshError } from '@ffmesh/protocol'
import type { Logger } from '../logger.js'
import type { NodeApi } from './api.js'
import { openEventStream } from './event-stream.js'
import { readJsonBody, sendError, sendJson } from './http-io.js'
import { matchRoute, parseBody } from './routes.js'

/** Only the user running the node may talk to it: the socket is as private as the data dir. */
const SOCKET_MODE = 0o600
/** How long a live node gets to accept a probe connection before its socket counts as stale. */
const PROBE_TIMEOUT_MS = 1_000

export interface ControlServer {
  start(options?: { signal?: AbortSignal }): Promise<void>
  stop(): Promise<void>
}

/** The control API: JSON over HTTP on a unix socket, plus server-sent events at /v1/events. */
export function createControlServer (init: { api: NodeApi, socketPath: string, logger: Logger, heartbeatMs?: number }): ControlServer {
  const { api, socketPath, logger } = init
  const streams = new Set<() => void>()
  const inFlight = new AbortController()
  let listening = false

  const server = createServer((req, res) => { void handle(req, res) })
  server.on('clientError', (_err, socket) => { socket.destroy() })

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    const pathname = new URL(req.url ?? '/', 'http://ffmesh').pathname
    try {
      if (pathname === '/v1/events') {
        if (method !== 'GET') throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, 'use GET for /v1/events')
        const close = openEventStream(api, res, { heartbeatMs: init.heartbeatMs })
        streams.add(close)
        res.on('close', () => streams.delete(close))
        return
      }
      const match = matchRoute(method, pathname)
      if (!('route' in match)) {
        if (match.allowed.length > 0) {
          res.setHeader('allow', match.allowed.join(', '))
          sendJson(res, 405, { error: { code: ErrorCodes.BAD_ARGUMENTS, message: `${method} is not allowed on ${pathname}; use ${match.allowed.join(' or ')}` } })
          return
        }
        throw new FfmeshError(ErrorCodes.ROUTE_NOT_FOUND, `no control API route ${method} ${pathname}; the CLI and the node may be different versions`)
      }
      const body = match.route.schema != null ? parseBody(match.route, await readJsonBody(req)) : undefined
      const result = await match.route.handle(api, match.params, body, inFlight.signal)
      sendJson(res, result.status, result.body)
    } catch (err) {
      if (!isFfmeshError(err)) logger.error({ err, method, path: pathname }, 'control request failed')
      else logger.debug({ code: err.code, method, path: pathname }, 'control request refused')
      sendError(res, err)
    }
  }

  return {
    async start () {
      await removeStaleSocket(socketPath)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(socketPath, () => {
          server.off('error', reject)
          resolve()
        })
      })
      listening = true
      // The data dir is 0700, so the moment between listen and chmod exposes nothing.
      await chmod(socketPath, SOCKET_MODE)
      logger.info({ socket: socketPath }, 'control API listening')
    },
    async stop () {
      if (!listening) return
      listening = false
      inFlight.abort()
      for (const close of streams) close()
      streams.clear()
      const closed = new Promise<void>(resolve => server.close(() => { resolve() }))
      server.closeAllConnections()
      await closed
      await unlink(socketPath).catch(() => {})
    }
  }
}

/**
 * A socket file left by a node that crashed is removed; one a live node answers on is not: two
 * nodes on one data dir would corrupt each other's state.
 */
async function removeStaleSocket (socketPath: string): Promise<void> {
  let info
  try {
    info = await lstat(socketPath)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  if (!info.isSocket()) {
    throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `${socketPath} exists and is not a socket; move it away so the node can create its control socket there`)
  }
  if (await answers(socketPath)) {
    throw new FfmeshError(ErrorCodes.NODE_ALREADY_RUNNING, `a node is already running for data dir ${path.dirname(socketPath)} (it answers on ${socketPath}); stop it first or use another --data-dir`)
  }
  await unlink(socketPath)
}

function answers (socketPath: string): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect(socketPath)
    const done = (alive: boolean): void => {
      socket.destroy()
      resolve(alive)
    }
    socket.setTimeout(PROBE_TIMEOUT_MS, () => { done(false) })
    socket.once('connect', () => { done(true) })
    socket.once('error', () => { done(false) })
  })
}
