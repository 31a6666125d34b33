import type { ErrorBody } from './errors.js'
import type { JobState, UnitState } from './units.js'

/** `ffmesh status JOB --json`: the CLI contract of DESIGN.md plus a few fields people want. */
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
  progress: number
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
  lastSeen: number
}
