import type { IncomingMessage } from 'node:http'
import { CSRF_HEADER, ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { isLoopbackHost } from './listen-address.js'
import { tokensEqual } from './sessions.js'

/**
 * The checks every dashboard request passes before it reaches a handler. Each returns the error
 * to answer with, or null. They are pure functions of the request, so they are tested alone.
 */

/** Methods that read only; everything else changes something and needs the CSRF token. */
export const SAFE_METHODS = new Set(['GET', 'HEAD'])

function header (req: IncomingMessage, name: string): string | null {
  const value = req.headers[name]
  return typeof value === 'string' ? value : null
}

/** The host name of a Host header (`[::1]:7676` → `::1`); null when it is not a valid host. */
function hostnameOf (host: string): string | null {
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '')
  } catch {
    return null
  }
}

/**
 * DNS rebinding: a web page on a name that the attacker points at 127.0.0.1 would be same-origin
 * with the dashboard. Browsers send the name they looked up as Host, so a dashboard on loopback
 * answers only loopback names (any port: `ssh -L` forwards keep working), as Syncthing's GUI does.
 */
export function checkHost (req: IncomingMessage, listenIsLoopback: boolean): FfmeshError | null {
  if (!listenIsLoopback) return null
  const host = header(req, 'host')
  const name = host != null ? hostnameOf(host) : null
  if (name != null && isLoopbackHost(name)) return null
  return new FfmeshError(
    ErrorCodes.UI_HOST_REFUSED,
    'this dashboard answers only requests to localhost, 127.0.0.1 or [::1]; set a password with `ffmesh ui password` to reach it by another name'
  )
}

/**
 * Another web site open in the same browser must not use the dashboard: a request whose Origin
 * is not the dashboard's own, or that the browser marks as cross-site (Sec-Fetch-Site), is
 * refused. The one exception is a person following a link to a page from elsewhere.
 */
export function checkOrigin (req: IncomingMessage, pathname: string): FfmeshError | null {
  const origin = header(req, 'origin')
  const host = header(req, 'host')
  if (origin != null) {
    let originHost: string | null = null
    try {
      originHost = origin === 'null' ? null : new URL(origin).host
    } catch {
      originHost = null
    }
    if (originHost == null || host == null || originHost.toLowerCase() !== host.toLowerCase()) {
      return new FfmeshError(
        ErrorCodes.UI_ORIGIN_REFUSED,
        `requests from ${origin} are refused: the dashboard answers only its own pages`
      )
    }
  }
  const site = header(req, 'sec-fetch-site')
  if (site != null && site !== 'same-origin' && site !== 'none') {
    const navigation =
      header(req, 'sec-fetch-mode') === 'navigate' && SAFE_METHODS.has(req.method ?? 'GET') && pathname === '/'
    if (!navigation) {
      return new FfmeshError(
        ErrorCodes.UI_ORIGIN_REFUSED,
        `a ${site} request is refused: the dashboard answers only its own pages`
      )
    }
  }
  return null
}

/**
 * A request that changes something must be JSON (an HTML form on another site cannot send that)
 * and carry the session's CSRF token, which only the dashboard's own pages can read.
 */
export function checkCsrf (req: IncomingMessage, csrf: string | null): FfmeshError | null {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return null
  const notJson = checkJson(req)
  if (notJson != null) return notJson
  if (csrf == null || !tokensEqual(header(req, CSRF_HEADER), csrf)) {
    return new FfmeshError(
      ErrorCodes.UI_CSRF_REFUSED,
      `the request lacks its session's CSRF token (${CSRF_HEADER}); reload the page`
    )
  }
  return null
}

/** Signing in has no session yet, so no token: it must still be JSON, which no cross-site form can send. */
export function checkJson (req: IncomingMessage): FfmeshError | null {
  if ((header(req, 'content-type') ?? '').toLowerCase().startsWith('application/json')) return null
  return new FfmeshError(
    ErrorCodes.UI_CSRF_REFUSED,
    'a request that changes something must be sent as application/json'
  )
}

/** The value of one cookie from the Cookie header, or null. */
export function cookieValue (req: IncomingMessage, name: string): string | null {
  const cookies = header(req, 'cookie')
  if (cookies == null) return null
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return null
}

/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
 * it), for the whole dashboard. Not `Secure`: the dashboard speaks plain HTTP on the LAN.
 */
export function sessionCookie (name: string, value: string | null, maxAgeSeconds: number): string {
  return `${name}=${value ?? ''}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${value == null ? 0 : maxAgeSeconds}`
}
