/**
 * The one registry of error codes. Codes are stable: tests, scripts and the CLI's `--json` output
 * match on them, never on message text. Every code is documented in docs/errors.md and a test
 * checks both directions.
 */
import { MAX_WIRE_MESSAGE } from './limits.js'

export const ErrorCodes = {
  // Input a person gave (submit, config, CLI)
  SOURCE_NOT_FOUND: 'SOURCE_NOT_FOUND',
  SOURCE_IS_DIRECTORY: 'SOURCE_IS_DIRECTORY',
  SOURCE_EMPTY: 'SOURCE_EMPTY',
  SOURCE_NOT_MEDIA: 'SOURCE_NOT_MEDIA',
  SOURCE_CORRUPT: 'SOURCE_CORRUPT',
  SOURCE_CHANGED: 'SOURCE_CHANGED',
  UNKNOWN_PROFILE: 'UNKNOWN_PROFILE',
  PROFILE_MISMATCH: 'PROFILE_MISMATCH',
  OUTPUT_NOT_WRITABLE: 'OUTPUT_NOT_WRITABLE',
  CONFIG_INVALID: 'CONFIG_INVALID',
  BAD_ARGUMENTS: 'BAD_ARGUMENTS',
  // Node lifecycle
  NODE_NOT_RUNNING: 'NODE_NOT_RUNNING',
  NODE_ALREADY_RUNNING: 'NODE_ALREADY_RUNNING',
  NOT_INITIALIZED: 'NOT_INITIALIZED',
  SWARM_KEY_MISSING: 'SWARM_KEY_MISSING',
  SWARM_KEY_INVALID: 'SWARM_KEY_INVALID',
  SWARM_KEY_INSECURE: 'SWARM_KEY_INSECURE',
  FFMPEG_NOT_FOUND: 'FFMPEG_NOT_FOUND',
  // Jobs
  JOB_NOT_FOUND: 'JOB_NOT_FOUND',
  JOB_NOT_RETRYABLE: 'JOB_NOT_RETRYABLE',
  JOB_NOT_DONE: 'JOB_NOT_DONE',
  /** A done job's output file is no longer where the job put it (moved or deleted since). */
  OUTPUT_MISSING: 'OUTPUT_MISSING',
  JOB_CANCELLED: 'JOB_CANCELLED',
  CONVERT_FAILED: 'CONVERT_FAILED',
  CONVERT_TIMEOUT: 'CONVERT_TIMEOUT',
  VERIFY_FAILED: 'VERIFY_FAILED',
  ATTEMPTS_EXHAUSTED: 'ATTEMPTS_EXHAUSTED',
  NO_CAPABLE_PEER: 'NO_CAPABLE_PEER',
  /** Not a failure: a unit waiting on a busy worker was given to an idle one at the end of a job. */
  UNIT_REASSIGNED: 'UNIT_REASSIGNED',
  // Watched folders
  WATCH_NOT_FOUND: 'WATCH_NOT_FOUND',
  WATCH_PATH_INVALID: 'WATCH_PATH_INVALID',
  /** A file in a watched folder is a symlink that leads outside the folder. */
  SOURCE_OUTSIDE_WATCH: 'SOURCE_OUTSIDE_WATCH',
  /** A file name that cannot be passed on safely (a NUL byte, not absolute once resolved). */
  SOURCE_NAME_INVALID: 'SOURCE_NAME_INVALID',
  // Libraries
  LIBRARY_NOT_FOUND: 'LIBRARY_NOT_FOUND',
  LIBRARY_PATH_INVALID: 'LIBRARY_PATH_INVALID',
  // Skip reasons: a library job that ends `skipped` says why with one of these (not failures)
  /** The source is already in the profile's codec and container. */
  ALREADY_TARGET: 'ALREADY_TARGET',
  /** The verified output was not smaller than the source by library.minSavingPercent. */
  NO_SAVING: 'NO_SAVING',
  /** The source is smaller than the library's minSize. */
  BELOW_MIN_SIZE: 'BELOW_MIN_SIZE',
  /** The source's bit rate is below the library's minBitrateKbps. */
  BELOW_MIN_BITRATE: 'BELOW_MIN_BITRATE',
  /** A rescan found the file as it was when it was last handled. */
  UNCHANGED: 'UNCHANGED',
  // Mesh transfers
  HASH_MISMATCH: 'HASH_MISMATCH',
  PEER_UNREACHABLE: 'PEER_UNREACHABLE',
  TRANSFER_FAILED: 'TRANSFER_FAILED',
  MESH_DISABLED: 'MESH_DISABLED',
  /**
   * Another node would not be paused or resumed from here (its mesh.remoteControl, or a pause made at that machine).
   */
  REMOTE_CONTROL_REFUSED: 'REMOTE_CONTROL_REFUSED',
  // Anything unexpected; never carries a stack trace outward
  INTERNAL: 'INTERNAL',
  // Added with the control API and secrets
  IDENTITY_INVALID: 'IDENTITY_INVALID',
  IDENTITY_INSECURE: 'IDENTITY_INSECURE',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  /** The node serves as many event streams as it takes at once (control socket or dashboard). */
  TOO_MANY_STREAMS: 'TOO_MANY_STREAMS',
  // Disk space, the job log and the data dir
  /** Free disk on the data dir's or an output folder's filesystem is below worker.minFreeDisk. */
  DISK_FULL: 'DISK_FULL',
  /** The job log is missing, damaged or not the one this data dir held; `ffmesh repair` saves what it can. */
  STORE_CORRUPT: 'STORE_CORRUPT',
  /** The job log was written by a newer ffmesh, in a layout this one does not read. */
  STORE_TOO_NEW: 'STORE_TOO_NEW',
  /** The job log could not take a write (an I/O error other than a full disk); nothing was recorded. */
  STORE_WRITE_FAILED: 'STORE_WRITE_FAILED',
  /** The data dir or a file in it that decides what the node runs can be written by other users. */
  DATA_DIR_INSECURE: 'DATA_DIR_INSECURE',
  /** `ffmesh rm` of a job that is still queued, running or assembling. */
  JOB_ACTIVE: 'JOB_ACTIVE',
  // The web dashboard
  UI_LOGIN_REQUIRED: 'UI_LOGIN_REQUIRED',
  UI_LOGIN_FAILED: 'UI_LOGIN_FAILED',
  UI_LOGIN_RATE_LIMITED: 'UI_LOGIN_RATE_LIMITED',
  UI_CSRF_REFUSED: 'UI_CSRF_REFUSED',
  UI_ORIGIN_REFUSED: 'UI_ORIGIN_REFUSED',
  UI_HOST_REFUSED: 'UI_HOST_REFUSED',
  UI_PASSWORD_REQUIRED: 'UI_PASSWORD_REQUIRED',
  UI_LISTEN_FAILED: 'UI_LISTEN_FAILED',
  UI_ASSETS_MISSING: 'UI_ASSETS_MISSING'
} as const

export type ErrorCode = typeof ErrorCodes[keyof typeof ErrorCodes]

/**
 * Reasons a worker refuses or gives back a unit, and a closed set on the wire: a peer that sends
 * anything else is read as GENERIC (as Syncthing does with unknown error codes).
 */
export const WireErrorCodes = {
  DISK_FULL: 'DISK_FULL',
  UNSUPPORTED_PROFILE: 'UNSUPPORTED_PROFILE',
  BUSY: 'BUSY',
  TOO_LARGE: 'TOO_LARGE',
  /** The worker was granted a unit but lost its connection to the owner before fetching it. */
  OWNER_UNREACHABLE: 'OWNER_UNREACHABLE',
  BAD_REQUEST: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  HASH_MISMATCH: 'HASH_MISMATCH',
  CONVERT_FAILED: 'CONVERT_FAILED',
  TIMEOUT: 'TIMEOUT',
  NOT_GRANTED: 'NOT_GRANTED',
  GENERIC: 'GENERIC'
} as const

export type WireErrorCode = typeof WireErrorCodes[keyof typeof WireErrorCodes]

export function toWireErrorCode (code: unknown): WireErrorCode {
  return typeof code === 'string' && Object.hasOwn(WireErrorCodes, code)
    ? code as WireErrorCode
    : WireErrorCodes.GENERIC
}

/** An error a person can act on: a stable code, a message naming the problem and what to do. */
export class FfmeshError extends Error {
  static override name = 'FfmeshError'
  override name = 'FfmeshError'
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.code = code
    this.details = details
  }
}

export function isFfmeshError (err: unknown): err is FfmeshError {
  return err instanceof Error && typeof (err as FfmeshError).code === 'string' &&
    Object.hasOwn(ErrorCodes, (err as FfmeshError).code)
}

/** The JSON shape of an error crossing the control API or printed by `--json`. */
export interface ErrorBody { code: ErrorCode, message: string }

/** `text` cut to `max` characters, the cut marked with an ellipsis. */
export function clipMessage (text: string, max: number = MAX_WIRE_MESSAGE): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** An error body fit for a mesh message: its message cut to MAX_WIRE_MESSAGE. */
export function wireErrorBody (body: ErrorBody): ErrorBody {
  return { code: body.code, message: clipMessage(body.message) }
}

export function toErrorBody (err: unknown): ErrorBody {
  if (isFfmeshError(err)) return { code: err.code, message: err.message }
  return { code: ErrorCodes.INTERNAL, message: 'internal error; see the node log for details' }
}
