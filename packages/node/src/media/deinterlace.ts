/**
 * Deinterlacing. A PAL or NTSC DVD and a TV recording carry interlaced video: each frame holds two
 * fields taken a field apart in time. Encoded as a progressive frame, with nothing done, motion
 * shows comb teeth on every device that plays the result, and a progressive encoder spends bits on
 * them. So by default a unit deinterlaces the frames its source flags as interlaced, where the
 * source's stream says it is interlaced; frames flagged progressive (film on a DVD) pass unchanged.
 *
 * bwdif is the filter: it interpolates each field's missing lines from both fields and the frames
 * either side, which keeps more detail than yadif, and with `send_frame` it gives one frame out for
 * each frame in, so a unit's frame count, which the owner checks, stays the source's.
 */
import type { DeinterlacedFrame, Profile } from '@ffmesh/protocol'
import type { MediaInfo } from './probe.js'

/** ffprobe's field orders of an interlaced stream: top or bottom field coded first, shown first. */
const INTERLACED_FIELD_ORDERS = new Set(['tt', 'bb', 'tb', 'bt'])

/**
 * The frames a video unit of this job deinterlaces (UnitSpec.deinterlace), or null for none: the
 * profile's `deinterlace` (`auto` when unset) against the probe's field order. Null too for `auto`
 * when the probe does not say (a job logged by an older node), which leaves the unit as it was.
 */
export function unitDeinterlace (info: MediaInfo, profile: Profile): DeinterlacedFrame | null {
  const video = profile.kind === 'video' ? profile.video : undefined
  if (video == null || info.kind !== 'video') return null
  switch (video.deinterlace ?? 'auto') {
    case 'off': return null
    case 'always': return 'all'
    case 'auto': return INTERLACED_FIELD_ORDERS.has(info.picture?.fieldOrder ?? '') ? 'interlaced' : null
  }
}

/**
 * The filter that deinterlaces `frames`, none when the spec names none. It goes first in a chain:
 * it needs the frames either side, as decoded, before any is dropped, turned or cropped.
 */
export function deinterlaceFilters (frames: DeinterlacedFrame | undefined): string[] {
  return frames == null ? [] : [`bwdif=mode=send_frame:parity=auto:deint=${frames}`]
}
