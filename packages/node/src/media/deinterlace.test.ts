import { describe, expect, it } from 'vitest'
import type { DeinterlaceMode, Profile } from '@ffmesh/protocol'
import { defaultProfile, videoInfo } from '../../../../test/fixtures/media-info.js'
import { deinterlaceFilters, unitDeinterlace } from './deinterlace.js'

const profile = (name: string, deinterlace?: DeinterlaceMode): Profile => defaultProfile(name, { deinterlace })
const scanned = (fieldOrder: string | null | undefined) =>
  videoInfo({ pixelFormat: 'yuv420p', width: 720, height: 576, ...(fieldOrder !== undefined ? { fieldOrder } : {}) })

describe('the frames a video unit deinterlaces', () => {
  it('by default, the frames flagged interlaced of a stream whose field order says interlaced', () => {
    for (const order of ['tt', 'bb', 'tb', 'bt']) {
      expect(unitDeinterlace(scanned(order), profile('h264')), order).toBe('interlaced')
      expect(unitDeinterlace(scanned(order), profile('av1', 'auto')), order).toBe('interlaced')
    }
    for (const order of ['progressive', 'unknown', null, undefined]) {
      expect(unitDeinterlace(scanned(order), profile('h264')), String(order)).toBeNull()
    }
  })

  it('nothing for a job logged before probes read the field order, whose picture is unknown', () => {
    expect(unitDeinterlace(videoInfo(undefined), profile('h264'))).toBeNull()
    expect(unitDeinterlace(videoInfo(null), profile('h265'))).toBeNull()
  })

  it('every frame with `always`, whatever the stream says; none with `off`', () => {
    expect(unitDeinterlace(scanned('progressive'), profile('h264', 'always'))).toBe('all')
    expect(unitDeinterlace(videoInfo(null), profile('h264', 'always'))).toBe('all')
    expect(unitDeinterlace(scanned('tt'), profile('h264', 'off'))).toBeNull()
  })

  it('nothing for an audio or image profile, or an audio source', () => {
    expect(unitDeinterlace(scanned('tt'), profile('opus'))).toBeNull()
    expect(unitDeinterlace(scanned('tt'), profile('webp'))).toBeNull()
    expect(unitDeinterlace({ ...scanned('tt'), kind: 'audio' }, profile('h264', 'always'))).toBeNull()
  })

  it('is one bwdif filter giving a frame for each frame, or none', () => {
    expect(deinterlaceFilters(undefined)).toEqual([])
    expect(deinterlaceFilters('interlaced')).toEqual(['bwdif=mode=send_frame:parity=auto:deint=interlaced'])
    expect(deinterlaceFilters('all')).toEqual(['bwdif=mode=send_frame:parity=auto:deint=all'])
  })
})
