import { SpecStreamsSchema, type UnitSpec } from '@ffmesh/protocol'
import type { MediaInfo } from '../../media/index.js'

/**
 * The source's streams for a whole unit's spec, so that its worker maps them without a probe of its
 * own (a process start on a core that is converting); null for a source past the spec's bounds
 * (MAX_SPEC_STREAMS, MAX_SPEC_TAG_LENGTH), whose worker probes it as before.
 */
export function specStreams (info: MediaInfo | null | undefined): UnitSpec['streams'] | null {
  const parsed = SpecStreamsSchema.safeParse(info?.streams)
  return parsed.success ? parsed.data : null
}
