import type { ErrorBody } from '@ffmesh/protocol'
import { CSRF } from './routes.js'

/** An error the node answered with: its stable code (docs/errors.md), its message, the HTTP status. */
export class ApiError extends Error {
  readonly code: string
  readonly status: number
  constructor (body: ErrorBody | { code: string, message: string }, status: number) {
    super(body.message)
    this.code = body.code
    this.status = status
  }
}

/** Codes that mean the page must sign in again. */
const SIGNED_OUT = new Set(['UI_LOGIN_REQUIRED'])

export interface Api {
  get<T>(path: string): Promise<T>
  send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>
  /** The CSRF token of the current session, sent with every POST and DELETE. */
  setCsrf(token: string | null): void
}

/**
 * The dashboard's requests: same-origin JSON, the session cookie sent by the browser, the CSRF
 * token in a header. `onSignedOut` runs when the node says the session is gone.
 */
export function createApi (init: { onSignedOut: () => void }): Api {
  let csrf: string | null = null

  async function request<T> (method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (method !== 'GET') {
      headers['content-type'] = 'application/json'
      if (csrf != null) headers[CSRF] = csrf
    }
    let res: Response
    try {
      res = await fetch(path, {
        method,
        headers,
        body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
        credentials: 'same-origin',
        cache: 'no-store'
      })
    } catch {
      throw new ApiError(
        { code: 'NODE_NOT_RUNNING', message: 'the node does not answer; it may be stopped or restarting' },
        0
      )
    }
    const text = await res.text()
    let parsed: unknown = null
    try {
      parsed = text === '' ? null : JSON.parse(text)
    } catch {
      throw new ApiError(
        {
          code: 'INTERNAL',
          message: `the node answered ${method} ${path} with something that is not JSON (HTTP ${res.status})`
        },
        res.status
      )
    }
    if (!res.ok) {
      const error = (parsed as { error?: ErrorBody } | null)?.error ?? {
        code: 'INTERNAL',
        message: `HTTP ${res.status}`
      }
      if (SIGNED_OUT.has(error.code)) init.onSignedOut()
      throw new ApiError(error, res.status)
    }
    return parsed as T
  }

  return {
    get: (path) => request('GET', path),
    send: (method, path, body) => request(method, path, body),
    setCsrf (token) { csrf = token }
  }
}
