import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

/** Paths pino blanks out wherever they appear, so no secret reaches a log line. */
export const REDACT_PATHS = [
  'swarmKey', '*.swarmKey', 'privateKey', '*.privateKey', 'token', '*.token', 'key', '*.key',
  'psk', '*.psk', 'authorization', '*.authorization'
]

export function createLogger (options: { level?: string, name?: string } = {}, destination?: DestinationStream): Logger {
  return pino({
    name: options.name ?? 'ffmesh',
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid }
  }, destination ?? pino.destination({ fd: 2, sync: false }))
}
