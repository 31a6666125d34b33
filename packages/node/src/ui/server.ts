import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ControlRoutes, ErrorCodes, FfmeshError, isFfmeshError, UiRoutes } from '@ffmesh/protocol'
import type { NodeApi } from '../control/api.js'
import { createControlDispatcher } from '../control/dispatch.js'
import { requestUrl, sendError } from '../control/http-io.js'
import type { Logger } from '../logger.js'
import { defaultAssetsDir, loadAssets, type Assets } from './assets.js'
import { createUiAuth } from './auth.js'
import { checkCsrf, checkHost, checkJson, checkOrigin, SAFE_METHODS } from './guard.js'
import { setSecurityHeaders } from './headers.js'
import { dashboardUrl, parseListenAddress, type ListenAddress } from './listen-address.js'

/**
 * How often the server looks at its password file and its sessions without being asked: a new
 * password ends old sessions and their event streams within this time, and a dashboard waiting
 * for a password opens within it.
 */
export const UI_SWEEP_MS = 5_000

export interface UiServer {
  /** Never throws for what a person can fix: it logs the error's code and the node goes on. */
  start(options?: { signal?: AbortSignal }): Promise<void>
  stop(): Promise<void>
  /** Where the dashboard answers; null while it is off, waiting for a password, or failed. */
  url(): string | null
}

export interface UiServerComponents { api: NodeApi, logger: Logger, clock?: () => number }
export interface UiServerInit {
  /** `host:port` (config `ui.listen`). */
  listen: string
  /** The data dir's `ui-password` file. */
  passwordFile: string
  /** The built web package; default: `@ffmesh/web`'s dist. */
  assetsDir?: string
  heartbeatMs?: number
  sweepMs?: number
}

/**
 * The web dashboard: the page and its assets, sign-in, and the control API through the same
 * dispatcher as the unix socket, behind Host, Origin, session and CSRF checks.
 */
export function createUiServer (components: UiServerComponents, init: UiServerInit): UiServer {
  const { api, logger } = components
  const address = parseListenAddress(init.listen) as ListenAddress
  const dispatcher = createControlDispatcher({ api, logger, heartbeatMs: init.heartbeatMs })
  let port = address.port
  let listening = false
  let waitingForPassword = false
  let assets: Assets | null = null
  let sweeper: NodeJS.Timeout | null = null
  const auth = createUiAuth(
    {
      logger,
      clock: components.clock,
      node: () => {
        const i = api.info()
        return { id: i.id, name: i.name, version: i.version }
      }
    },
    {
      passwordFile: init.passwordFile,
      // Cookies are not kept apart by port: nodes side by side on one host need their own names.
      cookieName: () => `ffmesh_session_${port}`
    }
  )

  const server = createServer((req, res) => { void handle(req, res) })
  server.on('clientError', (_err, socket) => { socket.destroy() })

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res)
    const method = req.method ?? 'GET'
    let pathname = '?'
    try {
      pathname = requestUrl(req).pathname
      const refused = checkHost(req, address.loopback) ?? checkOrigin(req, pathname)
      if (refused != null) throw refused
      // The page and its files hold nothing secret: they are served before the password is looked at.
      if (SAFE_METHODS.has(method) && assets != null) {
        if (pathname === '/') return assets.serveIndex(req, res)
        if (assets.serve(req, res, pathname)) return
      }
      await auth.refresh()
      if (!address.loopback && !auth.passwordSet) {
        throw new FfmeshError(
          ErrorCodes.UI_PASSWORD_REQUIRED,
          `the dashboard listens on ${init.listen}, which other machines reach, and its password was removed; set one with \`ffmesh ui password\``
        )
      }
      res.setHeader('cache-control', 'no-store')
      if (pathname === UiRoutes.session.path && method === UiRoutes.session.method) return auth.handleSession(req, res)
      if (pathname === UiRoutes.login.path && method === UiRoutes.login.method) {
        const notJson = checkJson(req)
        if (notJson != null) throw notJson
        return await auth.handleLogin(req, res)
      }
      const session = auth.session(req)
      if (pathname === UiRoutes.logout.path && method === UiRoutes.logout.method) {
        const csrf = checkCsrf(req, session?.csrf ?? null)
        if (csrf != null) throw csrf
        return auth.handleLogout(req, res, session)
      }
      if (!pathname.startsWith('/v1/')) {
        throw new FfmeshError(ErrorCodes.ROUTE_NOT_FOUND, `the dashboard has no page or route ${method} ${pathname}`)
      }
      if (session == null) {
        throw new FfmeshError(
          ErrorCodes.UI_LOGIN_REQUIRED,
          auth.passwordSet ? 'sign in to the dashboard first' : 'open the dashboard page first: it starts a session'
        )
      }
      const csrf = checkCsrf(req, session.csrf)
      if (csrf != null) throw csrf
      if (pathname === ControlRoutes.events.path) {
        // A session that ends (sign-out, expiry, new password) takes its event streams with it.
        const forget = auth.sessions.onEnd(session.id, () => { res.destroy() })
        res.on('close', forget)
      }
      await dispatcher.handle(req, res)
    } catch (err) {
      if (isFfmeshError(err)) logger.debug({ code: err.code, method, path: pathname }, 'dashboard request refused')
      else logger.error({ err, method, path: pathname }, 'dashboard request failed')
      sendError(res, err)
    }
  }

  async function listen (): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(address.port, address.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
      logger.error(
        { code: ErrorCodes.UI_LISTEN_FAILED, listen: init.listen, reason },
        `the dashboard cannot listen on ${init.listen} (${reason}); the node goes on without it: free the port or set another ui.listen, then restart the node`
      )
      return
    }
    listening = true
    port = (server.address() as AddressInfo).port
    logger.info({ url: dashboardUrl(address.host, port), passwordSet: auth.passwordSet }, 'dashboard listening')
  }

  async function sweep (): Promise<void> {
    try {
      await auth.refresh()
    } catch (err) {
      logger.error(
        { code: isFfmeshError(err) ? err.code : undefined, err: isFfmeshError(err) ? undefined : err },
        'cannot read the dashboard password file'
      )
    }
    auth.sessions.sweep()
    if (waitingForPassword && auth.passwordSet) {
      waitingForPassword = false
      await listen()
    }
  }

  return {
    async start (options = {}) {
      try {
        assets = await loadAssets(init.assetsDir ?? defaultAssetsDir(), options)
        await auth.refresh()
      } catch (err) {
        if (!isFfmeshError(err)) throw err
        logger.error({ code: err.code }, `${err.message}; the node goes on without the dashboard`)
        return
      }
      sweeper = setInterval(() => { void sweep() }, init.sweepMs ?? UI_SWEEP_MS)
      sweeper.unref()
      if (!address.loopback && !auth.passwordSet) {
        waitingForPassword = true
        logger.error(
          { code: ErrorCodes.UI_PASSWORD_REQUIRED, listen: init.listen },
          `the dashboard would listen on ${init.listen}, which other machines reach, and no password is set; it stays off until one is set with \`ffmesh ui password\``
        )
        return
      }
      await listen()
    },
    async stop () {
      if (sweeper != null) clearInterval(sweeper)
      sweeper = null
      waitingForPassword = false
      dispatcher.close()
      auth.sessions.endAll()
      if (!listening) return
      listening = false
      const closed = new Promise<void>(resolve => server.close(() => { resolve() }))
      server.closeAllConnections()
      await closed
    },
    url: () => listening ? dashboardUrl(address.host, port) : null
  }
}
