import { MAX_SPEC_STREAMS, MAX_SPEC_TAG_LENGTH } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import type { MediaInfo, MediaStream } from '../../media/index.js'
import { specStreams } from './spec-streams.js'

const stream = (index: number, title: string | null = null): MediaStream => ({
  index, type: index === 0 ? 'video' : 'subtitle', codec: 'h264', language: 'eng', title, attachedPic: false
})
const info = (streams: MediaStream[]): MediaInfo => ({ streams } as unknown as MediaInfo)

describe("a whole unit's source streams in its spec", () => {
  it('carries the probe\'s streams as they are', () => {
    const streams = [stream(0), { ...stream(1), filename: 'font.ttf', mimetype: 'font/ttf' }]
    expect(specStreams(info(streams))).toEqual(streams)
  })

  it('leaves them out where they would not fit the spec: the worker probes its input instead', () => {
    expect(specStreams(info(Array.from({ length: MAX_SPEC_STREAMS + 1 }, (_, i) => stream(i))))).toBeNull()
    expect(specStreams(info([stream(0, 't'.repeat(MAX_SPEC_TAG_LENGTH + 1))]))).toBeNull()
    expect(specStreams(undefined)).toBeNull()
  })
})
