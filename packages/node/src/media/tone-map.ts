/**
 * HDR to SDR. An HDR10 or HLG film's picture is coded for a screen that shows up to 1,000 nits and
 * more; a screen without HDR shows it dim and grey, with the colours washed out, and an 8-bit
 * encode of it bands. A profile with `hdr: tonemap` turns such a source into SDR BT.709: into
 * linear light (100 nits for SDR white), to BT.709 primaries, then Möbius's curve, which keeps
 * what lies within SDR's range as it is and folds the highlights above it (up to the peak the
 * source's light-level metadata gives) smoothly into the top of the range (Hable's curve, the
 * other common choice, darkens the whole picture). Then BT.709's transfer and matrix, in TV range.
 * Each frame is mapped alone, so segments of one film come out alike and join without a seam.
 */
import type { Profile } from '@ffmesh/protocol'
import type { MediaInfo, SourcePicture } from './probe.js'

/** Transfer curves of HDR video (HDR10's PQ, broadcast HLG), as ffprobe names them. */
const HDR_TRANSFERS = new Set(['smpte2084', 'arib-std-b67'])

export function isHdr (picture: Pick<SourcePicture, 'transfer'>): boolean {
  return HDR_TRANSFERS.has(picture.transfer ?? '')
}

/** Whether a video unit of this job tone maps (UnitSpec.toneMap): the profile says so and the probe says HDR. */
export function unitToneMap (info: MediaInfo, profile: Profile): boolean {
  const video = profile.kind === 'video' ? profile.video : undefined
  return video?.hdr === 'tonemap' && info.picture != null && isHdr(info.picture)
}

/**
 * The filters that tone map, none when the spec does not say to. zscale reads the source's transfer,
 * primaries and matrix from the decoded frames, and the frames out carry BT.709's, which ffmpeg
 * hands the encoder; a pixel format follows (picture-format.ts).
 */
export function toneMapFilters (toneMap: boolean | undefined): string[] {
  if (toneMap !== true) return []
  return [
    'zscale=t=linear:npl=100',
    'format=gbrpf32le',
    'zscale=p=bt709',
    'tonemap=tonemap=mobius:desat=0',
    'zscale=t=bt709:m=bt709:r=tv'
  ]
}
