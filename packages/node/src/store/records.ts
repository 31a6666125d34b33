import type {
  ErrorBody,
  JobState,
  KindProfiles,
  LibraryRules,
  Profile,
  UnitSpec,
  UnitState,
  UnitTry
} from '@ffmesh/protocol'
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
  /** Null for a job queued from a library scan until its plan probes it (job:probed). */
  info: MediaInfo | null
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
  /**
   * A blob of this node: the honest copy of the source its plan made (a TS clock that jumps,
   * frames without times; see media/normalise.ts), which assembly reads instead of the source.
   */
  normalised?: { hash: string, size: number } | null
  /** Events logged for this job so far; each event carries its number (`jobSeq`). Absent in older logs. */
  eventCount?: number
  /** The log sequence number of this job's last event. Absent in older logs. */
  lastSeq?: number
  /**
   * The job log lost some of this job's records (found when the log was opened or repaired): the
   * job is held until a person retries or removes it, never run again on a state that may be old.
   */
  attention?: string | null
  /** A failed or cancelled job whose pieces and results were freed after jobs.failedRetentionSeconds. */
  blobsFreed?: boolean
  /** Set for a job a library scan queued: its rules and where its output goes. */
  library?: LibraryJob
  /** Why a `skipped` job was not converted. */
  reason?: ErrorBody | null
  /** Bytes of the verified output (of a done job, or of one discarded with NO_SAVING). */
  outputSize?: number | null
  /** A --replace swap under way (logged before its first step), so a restart can finish it. */
  swap?: SwapIntent | null
  /**
   * A done job whose unit records were let go after jobs.doneUnitsRetentionSeconds (job:compacted):
   * what `ffmesh stats` still counts of them. Its units are gone from memory and the log's views.
   */
  compacted?: JobSummary
  /**
   * The number of this job's first event the log still holds: a compacted job's earlier events were
   * deleted with its units (job:compacted). Absent: 1 (and in logs that kept a compacted job's events).
   */
  eventsFrom?: number
}

/** What a done job keeps of its units once they are let go. */
export interface JobSummary {
  /** Per node that converted units: how many it verified, and their time (lease to verified result). */
  workers: WorkerTime[]
}

export interface WorkerTime { peer: string, units: number, ms: number }

/** A library's rules as a job logs them: keepLarger is absent from a job logged before that rule. */
export type LoggedLibraryRules = Omit<LibraryRules, 'keepLarger'> & { keepLarger?: boolean }

/** What a library adds to a job. Kept small: 10,000 of these sit in the log and in memory. */
export interface LibraryJob {
  /** The library root the source was found under (the trash lives there). */
  root: string
  /** Profile names by kind: the probe may find another kind than the file's extension said. */
  profiles: KindProfiles
  rules: LoggedLibraryRules
  /** Files beside the source with its base name (subtitles, .nfo, posters), copied along with --out. */
  sidecars: string[]
  /** The verified output takes the source's place; the source goes to the library's trash. */
  replace: boolean
  /** The output root of a mirroring library (null with replace): part of the file index's key. */
  outRoot?: string | null
  /** The scan that queued the job. */
  batch: string
}

/** The two paths of a swap: where the original is kept, and where the output lands. */
export interface SwapIntent {
  trash: string
  final: string
  /**
   * The verified output as a file when the swap was logged. A rename and a link keep a file's
   * inode, size and time, so a restart tells the output from whatever else is under its names (a
   * temp being written again, which may get the freed inode; another program's file). Not its
   * device number: a USB disk, a FUSE pool or NFS may get another one at the next boot.
   * Absent in a swap logged by an older node.
   */
  output?: FileIdentity
}

/** A file as the file system knows it, whatever its name. */
export interface FileIdentity { ino: number, size: number, mtimeMs: number }

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
  /**
   * Its leases with their times (absent in records logged before): the dashboard's timeline, and
   * `ffmesh stats`' conversion time per node (the verified try's lease to its result).
   */
  tries?: UnitTry[]
}

/** The events of the log. Each is applied to the views by reduce.ts in the same atomic batch. */
export type JobEvent =
  | { type: 'job:submitted'; job: JobRecord }
  | { type: 'job:units-planned'; units: UnitRecord[] }
  /**
   * `videoFrames`: the source's frame count, which the plan counts as it cuts; `info`: the source
   * as the plan measured it (where each stream ends; the normalised copy's streams), replacing the
   * probe's; `normalised`: that copy's blob. All absent in older logs.
   */
  | {
      type: 'job:planned'
      sourceHash: string | null
      units: UnitRecord[]
      videoFrames?: number | null
      info?: MediaInfo
      normalised?: { hash: string; size: number } | null
    }
  | { type: 'unit:leased'; index: number; worker: string; attempt: number; leaseUntil: number }
  | { type: 'unit:converting'; index: number; attempt: number }
  | { type: 'unit:returned'; index: number; attempt: number }
  | { type: 'unit:verified'; index: number; worker: string; attempt: number; result: UnitOutcome }
  | { type: 'unit:released'; index: number; attempt: number; reason: ErrorBody; failure: boolean }
  | { type: 'job:assembling' }
  | { type: 'job:done'; output: string; outputSize?: number }
  /** A library job's probe, logged before its plan (and the profile for the kind it found). */
  | { type: 'job:probed'; info: MediaInfo; profile?: Profile }
  | { type: 'job:skipped'; reason: ErrorBody; outputSize?: number }
  | { type: 'job:swap-started'; swap: SwapIntent }
  | { type: 'job:failed'; error: ErrorBody }
  | { type: 'job:cancelled' }
  /**
   * `owner`: a job handed off to another node and retried on its submitter is the submitter's
   * again, to hand off anew (absent otherwise, and in older logs).
   */
  | { type: 'job:retried'; owner?: string }
  | { type: 'job:handoff-sent'; to: string }
  | { type: 'job:handed-off'; to: string }
  | { type: 'job:remote-state'; state: JobState; error: ErrorBody | null }
  | { type: 'job:delivered' }
  /** The log lost records of this job (log-check.ts): hold it and say why. */
  | { type: 'job:damaged'; reason: string }
  /** Retention ended for a failed or cancelled job: its pieces and results are gone. */
  | { type: 'job:blobs-freed' }
  /**
   * A done job's units let go after jobs.doneUnitsRetentionSeconds, keeping what `ffmesh stats`
   * counts of them. Its unit records, and its events before this one (`eventsFrom`, this event's
   * number), are deleted in the same batch; absent in older logs, which kept the events.
   */
  | { type: 'job:compacted'; summary: JobSummary; eventsFrom?: number }
  /** `ffmesh rm`: the job's records were deleted in the same batch; this tombstone keeps the sequence whole. */
  | { type: 'job:removed' }

/** `jobSeq`: the event's number among its job's events, so a gap within one job can be seen (absent in older logs). */
export interface LoggedEvent { seq: number, time: number, jobId: string, event: JobEvent, jobSeq?: number }
