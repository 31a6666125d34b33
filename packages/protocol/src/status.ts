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
  lastSeen: number
}
