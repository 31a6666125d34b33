import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

/** Paths pino blanks out wherever they appear, so no secret reaches a log line. */
export const SECRET_FIELD_NAMES = ['swarmKey', 'privateKey', 'token', 'key', 'psk', 'authorization',
  // The dashboard's: its password and hash, session cookies and CSRF tokens.
  'password', 'passwordHash', 'cookie', 'csrf', 'sessionId'] as const
/**
 * Security: how deep a secret field is still found. A component may log an init or config
 * object that holds the key a few levels down (`{ init: { mesh: { swarmKey } } }`); one level of
 * wildcard was not enough. Four levels cover every object the node logs.
 */
export const REDACT_MAX_DEPTH = 4
export const REDACT_PATHS = SECRET_FIELD_NAMES.flatMap(name =>
  Array.from({ length: REDACT_MAX_DEPTH + 1 }, (_, depth) => [...Array<string>(depth).fill('*'), name].join('.')))

export function createLogger (
  options: { level?: string; name?: string } = {},
  destination?: DestinationStream
): Logger {
  return pino(
    {
      name: options.name ?? 'ffmesh',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid }
    },
    destination ?? pino.destination({ fd: 2, sync: false })
  )
}
