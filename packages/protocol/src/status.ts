import type { ErrorBody } from './errors.js'
import type { JobState, UnitState } from './units.js'

/** `ffmesh status JOB --json`: the shape scripts read (docs/usage.md), one entry per unit of the job. */
export interface UnitStatus {
  index: number
  kind: 'segment' | 'audio' | 'whole'
  state: UnitState
  /** Peer id of the node converting or that converted the unit; the owner's own id for local work. */
  worker: string | null
  attempts: number
  /** 0..1 while converting, 1 once verified. */
  progress: number
  durationSec: number
  /**
   * Who had the unit and when, oldest try first (the last MAX_UNIT_TRIES), from the owner's job
   * log: the dashboard's timeline. Absent for units logged before tries were kept.
   */
  tries?: UnitTry[]
}

/** One lease of a unit: from the grant to its verified result or its release. */
export interface UnitTry {
  /** Peer id of the worker (the owner's own id for local work). */
  worker: string
  attempt: number
  leasedAt: number
  /** When the worker reported that ffmpeg started; null before that. */
  convertingAt: number | null
  /** Verified or released; null while the try runs. */
  endedAt: number | null
  outcome: 'verified' | 'released' | null
}

export interface JobStatus {
  id: string
  state: JobState
  profile: string
  source: string
  output: string | null
  error: ErrorBody | null
  units: UnitStatus[]
  owner: string
  createdAt: number
  updatedAt: number
  /** Why a queued or running job is not moving, for people (for example no peer can take its units). */
  waiting: string | null
  /**
   * Set when the job log lost some of this job's records (a damaged log, `ffmesh repair`): the job
   * is held, never run again silently. `ffmesh retry JOB` runs it anyway; `ffmesh rm JOB` removes it.
   */
  attention?: string | null
  progress: number
  /** Why a `skipped` job was not converted (ALREADY_TARGET, NO_SAVING, ...); null otherwise. */
  reason?: ErrorBody | null
  /** Bytes of the source, and of the output once done (null before). */
  bytesIn?: number
  bytesOut?: number | null
}

/** `ffmesh peers --json`. */
export interface PeerStatus {
  id: string
  name: string
  slotsFree: number
  /** 0 for a node that converts nothing (it only submits). */
  slotsTotal: number
  encoders: string[]
  diskFree: number
  /** The peer said it is below its own free-disk reserve; it is offered nothing until it says otherwise. */
  diskFull?: boolean
  lastSeen: number
  version: string
  /** Its worker takes no new units (paused by a person, or outside its schedule). */
  paused: boolean
  /** Paused, with units it had started still running to their end. */
  draining: boolean
  /** Its schedule's window now and when it changes; null without a schedule. */
  schedule: ScheduleState | null
  /** `schedule.next`, for scripts: when it opens (if closed) or closes (if open). */
  nextWindow: number | null
}

/** A worker's time windows (`worker.schedule`): whether one is open now and when that changes. */
export interface ScheduleState {
  open: boolean
  /** When the window opens or closes next (ms since epoch); null: never within a week. */
  next: number | null
}

