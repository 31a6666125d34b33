import type { DeinterlacedFrame, PixelFormat, UnitSpec } from '@ffmesh/protocol'
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
  /** The frames a video unit deinterlaces, where any (see deinterlace.ts). */
  deinterlace?: DeinterlacedFrame
  /** True where a video unit tone maps HDR to SDR (see tone-map.ts). */
  toneMap?: true
}

/** What a unit's spec takes from its plan: all but the job, the inputs' blobs, the source's streams and the profile. */
export type PlannedSpec = Pick<
  UnitSpec,
  'kind' | 'preRoll' | 'range' | 'durationSec' | 'frames' | 'rotation' | 'pixelFormat' | 'deinterlace' | 'toneMap' | 'inputFormat'
>

/** The spec's part a planned unit decides; a field a worker may not know is left out where it says nothing. */
export function plannedSpec (u: PlannedUnit): PlannedSpec {
  return {
    kind: u.kind,
    preRoll: u.preRoll,
    range: u.range,
    durationSec: u.durationSec,
    frames: u.expectedFrames,
    ...(u.rotation != null && u.rotation !== 0 ? { rotation: u.rotation } : {}),
    ...(u.pixelFormat != null ? { pixelFormat: u.pixelFormat } : {}),
    ...(u.deinterlace != null ? { deinterlace: u.deinterlace } : {}),
    ...(u.toneMap === true ? { toneMap: true as const } : {}),
    inputFormat: u.inputFormat
  }
}
