import { createServer } from 'node:http'
import { connect } from 'node:net'
import { chmod, lstat, unlink } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import type { Logger } from '../logger.js'
import type { NodeApi } from './api.js'
import { createControlDispatcher } from './dispatch.js'

/** Only the user running the node may talk to it: the socket is as private as the data dir. */
const SOCKET_MODE = 0o600
/** How long a live node gets to accept a probe connection before its socket counts as stale. */
const PROBE_TIMEOUT_MS = 1_000

export interface ControlServer {
  start(options?: { signal?: AbortSignal }): Promise<void>
  stop(): Promise<void>
}

/** The control API: JSON over HTTP on a unix socket, plus server-sent events at /v1/events. */
export function createControlServer (init: {
  api: NodeApi
  socketPath: string
  logger: Logger
  heartbeatMs?: number
}): ControlServer {
  const { api, socketPath, logger } = init
  const dispatcher = createControlDispatcher({ api, logger, heartbeatMs: init.heartbeatMs })
  let listening = false

  const server = createServer((req, res) => {
    void dispatcher.handle(req, res)
  })
  server.on('clientError', (_err, socket) => {
    socket.destroy()
  })

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
      dispatcher.close()
      const closed = new Promise<void>(resolve =>
        server.close(() => {
          resolve()
        })
      )
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
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      `${socketPath} exists and is not a socket; move it away so the node can create its control socket there`
    )
  }
  if (await answers(socketPath)) {
    throw new FfmeshError(
      ErrorCodes.NODE_ALREADY_RUNNING,
      `a node is already running for data dir ${path.dirname(socketPath)} (it answers on ${socketPath}); stop it first or use another --data-dir`
    )
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
