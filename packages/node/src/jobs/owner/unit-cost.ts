import type { UnitRecord } from '../../store/records.js'

/**
 * What a unit costs on this mesh, measured from the owner's own verified tries: the seconds from
 * ffmpeg's start to the verified result against the unit's media seconds, fitted as a line. The
 * intercept is what every unit pays whatever its length (a process start, a new encoder, hashing,
 * the transfer back, the check), the slope how long a second of media takes to convert.
 */
export interface UnitCost { fixedSec: number, secPerMediaSec: number }

export interface UnitSample { mediaSec: number, wallSec: number }

/** Fewer verified tries than this say too little to fit. */
const MIN_SAMPLES = 4
/** Lengths that spread less than this cannot tell a fixed cost from a per-second one. */
const MIN_SPREAD_SEC = 2
/** The newest tries fitted: recent ones follow the mesh as it is now (its cores, its load). */
const MAX_SAMPLES = 64

/** A sample per verified try of a video unit (segment or whole), newest last as the units list them. */
export function unitSamples (units: Iterable<UnitRecord>): UnitSample[] {
  const samples: UnitSample[] = []
  for (const u of units) {
    if (u.state !== 'verified' || u.spec.kind === 'audio') continue
    const done = u.tries?.find(t => t.outcome === 'verified')
    if (done?.convertingAt == null || done.endedAt == null) continue
    samples.push({ mediaSec: u.spec.durationSec, wallSec: (done.endedAt - done.convertingAt) / 1000 })
  }
  return samples
}

/** Least squares over the newest samples; null when they cannot say (too few, lengths too alike, no slope). */
export function fitUnitCost (all: UnitSample[]): UnitCost | null {
  const samples = all.slice(-MAX_SAMPLES)
  if (samples.length < MIN_SAMPLES) return null
  const lengths = samples.map(s => s.mediaSec)
  if (Math.max(...lengths) - Math.min(...lengths) < MIN_SPREAD_SEC) return null
  const n = samples.length
  const meanX = lengths.reduce((a, b) => a + b, 0) / n
  const meanY = samples.reduce((a, s) => a + s.wallSec, 0) / n
  let sxy = 0
  let sxx = 0
  for (const s of samples) {
    sxy += (s.mediaSec - meanX) * (s.wallSec - meanY)
    sxx += (s.mediaSec - meanX) ** 2
  }
  const slope = sxy / sxx
  if (!(slope > 0)) return null
  // A negative intercept is noise around a small fixed cost: none is the honest reading.
  return { fixedSec: Math.max(0, meanY - slope * meanX), secPerMediaSec: slope }
}
