import type { PixelFormat } from '@ffmesh/protocol'
import type { Rotation } from './rotation.js'

/** One unit of a job as the plan makes it; the planner turns it into a UnitSpec. */
export interface PlannedUnit {
  kind: 'segment' | 'audio' | 'whole'
  /** Absolute paths in input order; for 'whole' this is [source] itself (not copied). */
  files: string[]
  /** files[0] is the previous piece, only decoded for reference. */
  preRoll: boolean
  range: { start: number, end: number | null } | null
  durationSec: number
  inputFormat: 'mpegts' | 'matroska' | 'source'
  /** Video frames this unit must produce (null for audio). */
  expectedFrames: number | null
  /** A segment's display rotation (pieces lose the source's matrix: see rotation.ts). */
  rotation?: Rotation
  /** The picture a video unit writes, where it must be told (see picture-format.ts). */
  pixelFormat?: PixelFormat
}
