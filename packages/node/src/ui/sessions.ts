import { randomBytes, timingSafeEqual } from 'node:crypto'

/** A signed-in browser stays signed in through a day of use; left alone for 12 hours it is not. */
export const SESSION_IDLE_MS = 12 * 3600 * 1000
/** However busy, a session ends after a week: a stolen cookie does not work for ever. */
export const SESSION_MAX_AGE_MS = 7 * 24 * 3600 * 1000
/**
 * Sessions kept at once; the oldest is ended first. A household has a few browsers; on loopback
 * without a password any local page load makes one, so the number must be bounded.
 */
export const MAX_SESSIONS = 256
/** 256 random bits: ids and CSRF tokens cannot be guessed. */
const TOKEN_BYTES = 32

export interface Session {
  readonly id: string
  /** Sent by the page in the CSRF header of every request that changes something. */
  readonly csrf: string
  readonly createdAt: number
  lastSeenAt: number
}

export interface SessionStore {
  create(): Session
  /** The live session with this id, touched; null for an unknown or expired one (which is ended). */
  get(id: string | null): Session | null
  /** Ends the session: its event streams are closed. */
  end(id: string): void
  /** Ends every session (the password changed). */
  endAll(): void
  /** Runs `close` when the session ends; returns a function that forgets it. */
  onEnd(id: string, close: () => void): () => void
  /**
   * Ends expired sessions, so their event streams do not outlive them. A session with a stream
   * open is a page someone has open: it counts as in use (up to SESSION_MAX_AGE_MS).
   */
  sweep(): void
  readonly size: number
}

export function createSessionStore (clock: () => number = Date.now): SessionStore {
  // A Map iterates in insertion order: the first entry is the oldest session.
  const sessions = new Map<string, Session>()
  const closers = new Map<string, Set<() => void>>()

  const expired = (s: Session, now: number): boolean =>
    now - s.lastSeenAt > SESSION_IDLE_MS || now - s.createdAt > SESSION_MAX_AGE_MS

  function end (id: string): void {
    sessions.delete(id)
    const set = closers.get(id)
    closers.delete(id)
    for (const close of set ?? []) close()
  }

  return {
    create () {
      const now = clock()
      const session: Session = {
        id: randomBytes(TOKEN_BYTES).toString('base64url'),
        csrf: randomBytes(TOKEN_BYTES).toString('base64url'),
        createdAt: now,
        lastSeenAt: now
      }
      sessions.set(session.id, session)
      while (sessions.size > MAX_SESSIONS) end(sessions.keys().next().value as string)
      return session
    },
    get (id) {
      if (id == null) return null
      const session = sessions.get(id)
      if (session == null) return null
      const now = clock()
      if (expired(session, now)) {
        end(id)
        return null
      }
      session.lastSeenAt = now
      return session
    },
    end,
    endAll () {
      for (const id of [...sessions.keys()]) end(id)
    },
    onEnd (id, close) {
      const set = closers.get(id) ?? new Set()
      set.add(close)
      closers.set(id, set)
      return () => {
        set.delete(close)
        if (set.size === 0 && closers.get(id) === set) closers.delete(id)
      }
    },
    sweep () {
      const now = clock()
      for (const session of [...sessions.values()]) {
        if ((closers.get(session.id)?.size ?? 0) > 0) session.lastSeenAt = now
        if (expired(session, now)) end(session.id)
      }
    },
    get size () { return sessions.size }
  }
}

/** Compares a token from a request with the session's in constant time. */
export function tokensEqual (given: string | null | undefined, expected: string): boolean {
  if (given == null) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
