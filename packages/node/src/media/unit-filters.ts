import type { UnitSpec } from '@ffmesh/protocol'
import { deinterlaceFilters } from './deinterlace.js'
import { toneMapFilters } from './tone-map.js'

/**
 * The filters of the parts of a unit's chain that an ffmpeg build may lack: bwdif to deinterlace,
 * and zscale and tonemap to map HDR to SDR (zscale is there only when ffmpeg was built with
 * libzimg). A worker whose ffmpeg lacks one refuses the unit, as it does for a missing encoder, so
 * the unit goes to a worker that has it instead of failing there. select, crop, scale, format and
 * the turns are in every build.
 */
export function unitFilters (spec: Pick<UnitSpec, 'deinterlace' | 'toneMap'>): string[] {
  const chain = [...deinterlaceFilters(spec.deinterlace), ...toneMapFilters(spec.toneMap)]
  return [...new Set(chain.map(filter => filter.split('=')[0] as string))]
}
