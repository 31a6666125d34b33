import type { ErrorBody, JobState, Profile, UnitSpec, UnitState, UnitTry } from '@ffmesh/protocol'
import type { MediaInfo } from '../media/index.js'

/** The materialized view of one job, as the owner keeps it. Derived from the event log. */
export interface JobRecord {
  id: string
  state: JobState
  profile: Profile
  source: string
  sourceSize: number
  sourceMtimeMs: number
  /** SHA-512 of the source, once hashed during planning. */
  sourceHash: string | null
  outDir: string
  output: string | null
  error: ErrorBody | null
  owner: string
  info: MediaInfo
  unitCount: number
  /**
   * Part of the plan is logged (job:units-planned) and the rest is still being cut: the job runs
   * what it has, and is not assembled until job:planned ends the plan.
   */
  planning?: boolean
  createdAt: number
  updatedAt: number
  /** Submitted with --handoff (or on a node with no slots): another node is to own it. */
  handoff?: boolean
  /** On a node that took over a handed-off job: the submitter, to whom the output goes back. */
  origin?: string | null
  /** On the submitter: the peer asked to take the job (the owner once it accepted). */
  handoffTo?: string | null
  /** On the new owner: the submitter has the output, so this node's copy may go. */
  delivered?: boolean
}

export interface UnitOutcome {
  hash: string
  size: number
  frames: number
  durationSec: number
  /** A segment's first video time as measured when it was verified (absent in older logs). */
  startSec?: number | null
}

/** The view of one unit of an owned job. */
export interface UnitRecord {
  jobId: string
  index: number
  spec: UnitSpec
  /** Source paths of the inputs on the owner (blob path, or the source file for a whole unit). */
  inputPaths: string[]
  expectedFrames: number | null
  state: UnitState
  worker: string | null
  /** Leases granted so far; a lease answers to one attempt number. */
  attempts: number
  /** Failed tries (convert, verify, lease expiry); reaching jobs.maxAttempts fails the job. */
  failures: number
  leaseUntil: number | null
  lastError: ErrorBody | null
  result: UnitOutcome | null
  /** Its leases with their times, for the dashboard's timeline (absent in records logged before). */
  tries?: UnitTry[]
}

/** The events of the log. Each is applied to the views by reduce.ts in the same atomic batch. */
export type JobEvent =
  | { type: 'job:submitted', job: JobRecord }
  | { type: 'job:units-planned', units: UnitRecord[] }
  /** `videoFrames`: the source's frame count, which the plan counts as it cuts (absent in older logs). */
  | { type: 'job:planned', sourceHash: string | null, units: UnitRecord[], videoFrames?: number | null }
  | { type: 'unit:leased', index: number, worker: string, attempt: number, leaseUntil: number }
  | { type: 'unit:converting', index: number, attempt: number }
  | { type: 'unit:returned', index: number, attempt: number }
  | { type: 'unit:verified', index: number, worker: string, attempt: number, result: UnitOutcome }
  | { type: 'unit:released', index: number, attempt: number, reason: ErrorBody, failure: boolean }
  | { type: 'job:assembling' }
  | { type: 'job:done', output: string }
  | { type: 'job:failed', error: ErrorBody }
  | { type: 'job:cancelled' }
  | { type: 'job:retried' }
  | { type: 'job:handoff-sent', to: string }
  | { type: 'job:handed-off', to: string }
  | { type: 'job:remote-state', state: JobState, error: ErrorBody | null }
  | { type: 'job:delivered' }

export interface LoggedEvent { seq: number, time: number, jobId: string, event: JobEvent }
