/**
 * Display rotation. A phone stores its picture as the sensor saw it and a display matrix saying how
 * to turn it. ffmpeg (5.1) applies that matrix when it converts (autorotate) and writes upright
 * frames without a matrix, so a plain run's output displays the same way as its source. Pieces
 * cut for segments lose the matrix (MPEG-TS and Matroska keep none), so a segment is told the
 * rotation and turns its frames itself, the same way.
 */

/** Clockwise quarter turns a source can need; ffmpeg 5.1 leaves any other angle alone, and so does ffmesh. */
export type Rotation = 0 | 90 | 180 | 270

/** ffprobe's view of a stream's side data, as far as rotation goes. */
export interface RotationSideData { side_data_list?: Array<{ rotation?: number | string }> }

/** A matrix angle this close to a quarter turn counts as one (ffmpeg's own tolerance in autorotate). */
const ANGLE_TOLERANCE_DEG = 1

/**
 * The clockwise turn that shows a stream upright. ffprobe prints the matrix's angle counterclockwise
 * (av_display_rotation_get); ffmpeg's autorotate turns by its negative, and so does this.
 */
export function displayRotation (stream: RotationSideData | undefined): Rotation {
  const raw = stream?.side_data_list?.find(d => d.rotation != null)?.rotation
  const angle = Number(raw)
  if (raw == null || !Number.isFinite(angle)) return 0
  const theta = ((-angle % 360) + 360) % 360
  for (const quarter of [90, 180, 270] as const) if (Math.abs(theta - quarter) < ANGLE_TOLERANCE_DEG) return quarter
  return 0
}

/** The filters ffmpeg 5.1's autorotate inserts for a turn, in the same order; empty for none. */
export function rotationFilters (rotation: Rotation | undefined): string[] {
  switch (rotation) {
    case 90: return ['transpose=clock']
    case 180: return ['hflip', 'vflip']
    case 270: return ['transpose=cclock']
    default: return []
  }
}
