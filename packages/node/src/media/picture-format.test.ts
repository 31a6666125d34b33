import { describe, expect, it } from 'vitest'
import type { Profile } from '@ffmesh/protocol'
import { defaultProfile, videoInfo } from '../../../../test/fixtures/media-info.js'
import { defaultPixelFormat, isDeepFormat, pictureFilters, unitPixelFormat } from './picture-format.js'
import type { SourcePicture } from './probe.js'

const profile = (name: string, pixelFormat?: 'yuv420p' | 'yuv420p10le'): Profile => defaultProfile(name, { pixelFormat })
const info = videoInfo
const pic = (pixelFormat: string, width = 1920, height = 1080): SourcePicture => ({ pixelFormat, width, height })

describe('the picture a video unit writes', () => {
  it('tells depth by the format\'s name', () => {
    for (const f of ['yuv420p10le', 'yuv422p10le', 'p010le', 'yuv444p12le', 'gray16be', 'rgb48le', 'yuv420p9le']) {
      expect(isDeepFormat(f), f).toBe(true)
    }
    for (const f of ['yuv420p', 'yuvj422p', 'yuv444p', 'nv12', 'rgb24', 'rgb565le', 'bgr444le', 'gray']) {
      expect(isDeepFormat(f), f).toBe(false)
    }
  })

  it('is 8-bit 4:2:0 for x264 but for HDR, and 4:2:0 at the source\'s depth up to 10 bits for the others', () => {
    expect(defaultPixelFormat('libx264', pic('yuv422p10le'))).toBe('yuv420p')
    expect(defaultPixelFormat('libx264', pic('yuv444p'))).toBe('yuv420p')
    expect(defaultPixelFormat('libx264', { ...pic('yuv420p10le'), transfer: 'bt709' })).toBe('yuv420p')
    expect(defaultPixelFormat('libx264', { ...pic('yuv420p10le'), transfer: 'smpte2084' })).toBe('yuv420p10le')
    expect(defaultPixelFormat('libx264', { ...pic('yuv422p10le'), transfer: 'arib-std-b67' })).toBe('yuv420p10le')
    for (const encoder of ['libx265', 'libsvtav1', 'libaom-av1', 'libvpx-vp9'] as const) {
      expect(defaultPixelFormat(encoder, pic('yuv422p10le'))).toBe('yuv420p10le')
      expect(defaultPixelFormat(encoder, pic('yuv420p12le'))).toBe('yuv420p10le')
      expect(defaultPixelFormat(encoder, pic('yuvj422p'))).toBe('yuv420p')
    }
  })

  it('is told to a unit only where a worker told nothing would write another picture', () => {
    // Already what the profile writes: nothing to tell, so a worker of an older version takes it.
    expect(unitPixelFormat(info(pic('yuv420p')), profile('h264'))).toBeNull()
    expect(unitPixelFormat(info(pic('yuv420p10le')), profile('h265'))).toBeNull()
    expect(unitPixelFormat(info({ ...pic('yuv420p10le'), transfer: 'smpte2084' }), profile('h264'))).toBeNull()
    // The profile names the format: every worker sets it anyway.
    expect(unitPixelFormat(info(pic('yuv444p')), profile('h265', 'yuv420p'))).toBeNull()
    // Told: a worker left alone would keep the source's chroma or depth.
    expect(unitPixelFormat(info(pic('yuvj422p')), profile('h264'))).toBe('yuv420p')
    expect(unitPixelFormat(info(pic('yuv420p10le')), profile('h264'))).toBe('yuv420p')
    expect(unitPixelFormat(info(pic('yuv422p10le')), profile('av1'))).toBe('yuv420p10le')
    // An odd size needs the crop whatever the format.
    expect(unitPixelFormat(info(pic('yuv420p', 1279, 720)), profile('h264'))).toBe('yuv420p')
    expect(unitPixelFormat(info(pic('yuv444p', 320, 241)), profile('h265', 'yuv420p10le'))).toBe('yuv420p10le')
  })

  it('is SDR\'s, and always told, for an HDR picture the profile tone maps', () => {
    const hdr10 = info({ ...pic('yuv420p10le'), transfer: 'smpte2084' })
    const toneMapping = (name: string, pixelFormat?: 'yuv420p' | 'yuv420p10le'): Profile =>
      defaultProfile(name, { pixelFormat, hdr: 'tonemap' })
    expect(unitPixelFormat(hdr10, toneMapping('h264'))).toBe('yuv420p')
    // Tone mapping ends in float RGB: even a format the source has is told.
    expect(unitPixelFormat(hdr10, toneMapping('h265'))).toBe('yuv420p10le')
    expect(unitPixelFormat(hdr10, toneMapping('h265', 'yuv420p'))).toBe('yuv420p')
    // SDR is not tone mapped: as without the setting.
    expect(unitPixelFormat(info(pic('yuv420p')), toneMapping('h264'))).toBeNull()
  })

  it('is not told for a picture the probe did not read, nor for a profile that is not video', () => {
    expect(unitPixelFormat(info(undefined), profile('h264'))).toBeNull()
    expect(unitPixelFormat(info(null), profile('h264'))).toBeNull()
    expect(unitPixelFormat(info(pic('yuv444p', 321, 241)), profile('opus'))).toBeNull()
    expect(unitPixelFormat(info(pic('yuv444p', 321, 241)), profile('webp'))).toBeNull()
  })

  it('crops to even before the format, and adds nothing when the unit is told nothing', () => {
    expect(pictureFilters(undefined)).toEqual([])
    expect(pictureFilters('yuv420p10le')).toEqual(['crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0', 'format=yuv420p10le'])
  })
})
