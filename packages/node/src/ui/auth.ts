import type { IncomingMessage, ServerResponse } from 'node:http'
import { ErrorCodes, FfmeshError, LoginBodySchema, type UiSession } from '@ffmesh/protocol'
import { readJsonBody, sendJson } from '../control/http-io.js'
import { parseWith } from '../control/routes.js'
import type { Logger } from '../logger.js'
import { createRateLimiter } from '../mesh/rate-limit.js'
import { cookieValue, sessionCookie } from './guard.js'
import { passwordStamp, readPasswordState } from './password-file.js'
import { verifyPassword } from './password.js'
import { createSessionStore, SESSION_MAX_AGE_MS, type Session, type SessionStore } from './sessions.js'

/**
 * Sign-in attempts per client address: 5 at once, then one every 12 s (5 a minute). A person who
 * mistypes gets five tries; guessing an 8-character password at 7200 a day takes centuries.
 */
export const LOGIN_BURST_PER_ADDRESS = 5
export const LOGIN_PER_SEC_PER_ADDRESS = 5 / 60
/** For all addresses together, so many addresses (IPv6 gives plenty) do not multiply the rate. */
export const LOGIN_BURST_TOTAL = 20
export const LOGIN_PER_SEC_TOTAL = 20 / 60
/** Addresses tracked by the limiter; the least recently seen is forgotten first. */
const MAX_LOGIN_ADDRESSES = 1024
/** What `Retry-After` says: the time one address's bucket takes to refill one attempt. */
const LOGIN_RETRY_AFTER_S = Math.ceil(1 / LOGIN_PER_SEC_PER_ADDRESS)

export interface UiAuth {
  readonly sessions: SessionStore
  /** Whether a password is set, as of the last refresh. */
  readonly passwordSet: boolean
  /** Reads the password file again if it changed; a new password ends every session. */
  refresh(): Promise<void>
  /** The request's live session, from its cookie. */
  session(req: IncomingMessage): Session | null
  /** GET /ui/session. Without a password a page gets a session here; with one, only by signing in. */
  handleSession(req: IncomingMessage, res: ServerResponse): void
  handleLogin(req: IncomingMessage, res: ServerResponse): Promise<void>
  handleLogout(req: IncomingMessage, res: ServerResponse, session: Session | null): void
}

export function createUiAuth (
  components: { logger: Logger; clock?: () => number; node: () => { id: string; name: string; version: string } },
  init: { passwordFile: string; cookieName: () => string }
): UiAuth {
  const { logger } = components
  const clock = components.clock ?? Date.now
  const sessions = createSessionStore(clock)
  const perAddress = createRateLimiter({
    clock,
    perSec: LOGIN_PER_SEC_PER_ADDRESS,
    burst: LOGIN_BURST_PER_ADDRESS,
    maxPeers: MAX_LOGIN_ADDRESSES
  })
  const total = createRateLimiter({ clock, perSec: LOGIN_PER_SEC_TOTAL, burst: LOGIN_BURST_TOTAL, maxPeers: 1 })
  let hash: string | null = null
  let stamp: string | null = null
  // One scrypt at a time: each takes 32 MiB and a core for about 0.3 s.
  let verifying: Promise<unknown> = Promise.resolve()

  const cookie = (session: Session | null): string =>
    sessionCookie(init.cookieName(), session?.id ?? null, SESSION_MAX_AGE_MS / 1000)

  function describe (session: Session | null): UiSession {
    return {
      signedIn: session != null,
      passwordSet: hash != null,
      csrf: session?.csrf ?? null,
      node: session != null ? components.node() : null
    }
  }

  const auth: UiAuth = {
    sessions,
    get passwordSet () {
      return hash != null
    },
    async refresh () {
      const now = await passwordStamp(init.passwordFile)
      if (now === stamp) return
      const state = await readPasswordState(init.passwordFile)
      if (stamp != null) {
        logger.info({ passwordSet: state.hash != null }, 'dashboard password changed; every session ended')
        sessions.endAll()
      }
      hash = state.hash
      stamp = state.stamp
    },
    session: req => sessions.get(cookieValue(req, init.cookieName())),
    handleSession (req, res) {
      let session = auth.session(req)
      if (session == null && hash == null) {
        session = sessions.create()
        res.setHeader('set-cookie', cookie(session))
      }
      sendJson(res, 200, describe(session))
    },
    async handleLogin (req, res) {
      const address = req.socket.remoteAddress ?? 'unknown'
      const body = parseWith(LoginBodySchema, await readJsonBody(req), 'request') as { password: string }
      if (hash == null) {
        throw new FfmeshError(
          ErrorCodes.BAD_ARGUMENTS,
          'no dashboard password is set, so there is nothing to sign in to; set one with `ffmesh ui password`'
        )
      }
      if (!perAddress.take(address) || !total.take('all')) {
        logger.warn({ remote: address }, 'dashboard sign-in refused: too many attempts')
        res.setHeader('retry-after', String(LOGIN_RETRY_AFTER_S))
        throw new FfmeshError(
          ErrorCodes.UI_LOGIN_RATE_LIMITED,
          `too many sign-in attempts; try again in ${LOGIN_RETRY_AFTER_S} s`
        )
      }
      const stored = hash
      const check = verifying.then(() => verifyPassword(body.password, stored))
      verifying = check.catch(() => {})
      if (!(await check)) {
        logger.warn({ remote: address }, 'dashboard sign-in refused: wrong password')
        throw new FfmeshError(ErrorCodes.UI_LOGIN_FAILED, 'wrong password')
      }
      const session = sessions.create()
      logger.info({ remote: address }, 'dashboard signed in')
      res.setHeader('set-cookie', cookie(session))
      sendJson(res, 200, describe(session))
    },
    handleLogout (_req, res, session) {
      if (session != null) sessions.end(session.id)
      res.setHeader('set-cookie', cookie(null))
      sendJson(res, 200, describe(null))
    }
  }
  return auth
}
