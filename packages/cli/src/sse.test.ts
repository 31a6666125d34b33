import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createSseParser } from './sse.js'

const STREAM =
  ': ffmesh events\n\nevent: job:done\ndata: {"type":"job:done","jobId":"A"}\n\n: heartbeat\n\nevent: unit:progress\r\ndata: {"a":1}\r\ndata: {"b":2}\r\n\r\n'

describe('createSseParser', () => {
  it('reads events, skips comments and joins data lines', () => {
    expect(createSseParser()(STREAM)).toEqual([
      { event: 'job:done', data: '{"type":"job:done","jobId":"A"}', id: null },
      { event: 'unit:progress', data: '{"a":1}\n{"b":2}', id: null }
    ])
  })

  it('gives each event the last id the stream sent, which carries over to events without one', () => {
    const parse = createSseParser()
    expect(parse('id: run:1\nevent: job:done\ndata: {}\n\nevent: reset\ndata: {}\n\nid: run:3\ndata: x\n\n')).toEqual([
      { event: 'job:done', data: '{}', id: 'run:1' },
      { event: 'reset', data: '{}', id: 'run:1' },
      { event: 'message', data: 'x', id: 'run:3' }
    ])
  })

  it('gives the same events however the stream is cut into chunks', () => {
    const whole = createSseParser()(STREAM)
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: STREAM.length }), { maxLength: 10 }), cuts => {
      const points = [0, ...cuts.sort((x, y) => x - y), STREAM.length]
      const parse = createSseParser()
      const events = points.slice(1).flatMap((end, i) => parse(STREAM.slice(points[i], end)))
      // A CRLF split across chunks reads as CR then LF: an extra empty line, which must not add events.
      expect(events).toEqual(whole)
    }))
  })
})
