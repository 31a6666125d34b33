import type { IncomingMessage, ServerResponse } from 'node:http'
import { ErrorCodes, FfmeshError, isFfmeshError, toErrorBody, type ErrorCode } from '@ffmesh/protocol'

/** Control requests are small JSON documents (a path, a profile name, a watch); 64 KiB is ample. */
export const MAX_CONTROL_BODY_BYTES = 64 * 1024

/** Codes that mean "the thing is in a state that forbids this", not "you asked wrongly". */
const CONFLICT_CODES = new Set<ErrorCode>([
  ErrorCodes.JOB_NOT_RETRYABLE,
  ErrorCodes.JOB_NOT_DONE,
  ErrorCodes.OUTPUT_MISSING,
  ErrorCodes.JOB_CANCELLED,
  ErrorCodes.NODE_ALREADY_RUNNING,
  ErrorCodes.JOB_ACTIVE,
  ErrorCodes.REMOTE_CONTROL_REFUSED
])

/** The dashboard's refusals: not signed in (401), not allowed from there (403), too fast (429). */
const UI_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.UI_LOGIN_REQUIRED]: 401,
  [ErrorCodes.UI_LOGIN_FAILED]: 401,
  [ErrorCodes.UI_LOGIN_RATE_LIMITED]: 429,
  [ErrorCodes.UI_CSRF_REFUSED]: 403,
  [ErrorCodes.UI_ORIGIN_REFUSED]: 403,
  [ErrorCodes.UI_HOST_REFUSED]: 403,
  [ErrorCodes.UI_PASSWORD_REQUIRED]: 503
}

export function httpStatusFor (code: ErrorCode): number {
  if (code === ErrorCodes.INTERNAL) return 500
  const ui = UI_STATUS[code]
  if (ui != null) return ui
  if (code === ErrorCodes.REQUEST_TOO_LARGE) return 413
  if (code === ErrorCodes.TOO_MANY_STREAMS) return 429
  // "Insufficient Storage": the node cannot take the request until space is freed.
  if (code === ErrorCodes.DISK_FULL) return 507
  if (code.endsWith('_NOT_FOUND') && code !== ErrorCodes.FFMPEG_NOT_FOUND) return 404
  if (CONFLICT_CODES.has(code)) return 409
  return 400
}

/**
 * The request's target as a URL. Only a path is taken (`/v1/jobs?state=done`): in a target such as
 * `//host/x` or `/\host/x` the URL parser reads a host, which names no route here (and an
 * unparsable one would throw), so those are refused as bad requests.
 */
export function requestUrl (req: IncomingMessage): URL {
  const target = req.url ?? '/'
  const refused = (): FfmeshError =>
    new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      `the request target ${JSON.stringify(target.slice(0, 200))} is not a path such as /v1/jobs`
    )
  if (!/^\/(?![/\\])/.test(target)) throw refused()
  try {
    return new URL(target, 'http://ffmesh')
  } catch {
    throw refused()
  }
}

export function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

/** FfmeshError → 4xx with its code; anything else → 500 INTERNAL with no detail (the caller logs it). */
export function sendError (res: ServerResponse, err: unknown): void {
  const body = toErrorBody(err)
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, isFfmeshError(err) ? httpStatusFor(body.code) : 500, { error: body })
}

/** Reads a JSON body, refusing more than MAX_CONTROL_BODY_BYTES; an empty body reads as {}. */
export async function readJsonBody (req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_CONTROL_BODY_BYTES) throw tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_CONTROL_BODY_BYTES) throw tooLarge()
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, 'request body is not valid JSON')
  }
}

function tooLarge (): FfmeshError {
  return new FfmeshError(ErrorCodes.REQUEST_TOO_LARGE, `request body is larger than ${MAX_CONTROL_BODY_BYTES} bytes`)
}
