import { describe, expect, it } from 'vitest'
import type { HdrMode, Profile } from '@ffmesh/protocol'
import { defaultProfile, videoInfo } from '../../../../test/fixtures/media-info.js'
import { isHdr, toneMapFilters, unitToneMap } from './tone-map.js'

const profile = (name: string, hdr?: HdrMode): Profile => defaultProfile(name, { hdr })
const curve = (transfer: string | null | undefined) =>
  videoInfo({ pixelFormat: 'yuv420p10le', width: 3840, height: 2160, ...(transfer !== undefined ? { transfer } : {}) })

describe('tone mapping HDR to SDR', () => {
  it('takes PQ and HLG for HDR, and nothing else', () => {
    expect(isHdr({ transfer: 'smpte2084' })).toBe(true)
    expect(isHdr({ transfer: 'arib-std-b67' })).toBe(true)
    for (const transfer of ['bt709', 'smpte170m', 'unknown', null, undefined]) expect(isHdr({ transfer }), String(transfer)).toBe(false)
  })

  it('is done where the profile says `tonemap` and the probe says HDR', () => {
    expect(unitToneMap(curve('smpte2084'), profile('h264', 'tonemap'))).toBe(true)
    expect(unitToneMap(curve('arib-std-b67'), profile('av1', 'tonemap'))).toBe(true)
    expect(unitToneMap(curve('bt709'), profile('h264', 'tonemap'))).toBe(false)
    // The default keeps HDR.
    expect(unitToneMap(curve('smpte2084'), profile('h264'))).toBe(false)
    expect(unitToneMap(curve('smpte2084'), profile('h265', 'keep'))).toBe(false)
    // A job logged before probes read the picture, and a profile that is not video.
    expect(unitToneMap(videoInfo(undefined), profile('h264', 'tonemap'))).toBe(false)
    expect(unitToneMap(curve('smpte2084'), profile('opus'))).toBe(false)
  })

  it('maps to linear light, BT.709 primaries, Möbius\'s curve, then BT.709 in TV range; nothing when not told', () => {
    expect(toneMapFilters(undefined)).toEqual([])
    expect(toneMapFilters(true)).toEqual([
      'zscale=t=linear:npl=100',
      'format=gbrpf32le',
      'zscale=p=bt709',
      'tonemap=tonemap=mobius:desat=0',
      'zscale=t=bt709:m=bt709:r=tv'
    ])
  })
})
