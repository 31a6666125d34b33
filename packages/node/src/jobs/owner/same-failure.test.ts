import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '@ffmesh/protocol'
import { failureSignature } from './same-failure.js'

const failed = (message: string) => ({ code: ErrorCodes.CONVERT_FAILED, message })

describe('what a conversion failure said', () => {
  it('is the same from two workers whose ffmpeg said the same, at other addresses and paths', () => {
    const b = failureSignature(failed(
      'from 12D3KooWB: ffmpeg exited with 1: [libopus @ 0x55d0a1b2c3d0] Invalid channel layout 5.1(side)\n' +
      '/var/lib/ffmesh/work/01JD/unit-3/piece.ts: Invalid data found'
    ))
    const c = failureSignature(failed(
      'from 12D3KooWC: ffmpeg exited with 1: [libopus @ 0x7f1e2d3c4b5a] Invalid channel layout 5.1(side)\n' +
      '/home/ann/.local/share/ffmesh/work/01JD/unit-3/piece.ts: Invalid data found'
    ))
    expect(b).not.toBeNull()
    expect(b).toBe(c)
    // A worker code that differed from the reason's is part of the prefix, not of what was said.
    expect(failureSignature(failed('SOURCE_CORRUPT from 12D3KooWB: bad header'))).toBe('bad header')
  })

  it('tells different errors apart, and leaves out failures that are not conversions', () => {
    expect(failureSignature(failed('from p: ffmpeg exited with 1: Invalid channel layout 5.1(side)')))
      .not.toBe(failureSignature(failed('from p: ffmpeg exited with 1: Cannot allocate memory')))
    expect(failureSignature({ code: ErrorCodes.CONVERT_TIMEOUT, message: 'TIMEOUT from p: took too long' })).toBeNull()
    expect(failureSignature({ code: ErrorCodes.VERIFY_FAILED, message: 'from p: 10 frames, expected 12' })).toBeNull()
  })
})
