import { createServer, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { NodeEvent } from '@ffmesh/protocol'
import type { NodeApi } from './api.js'
import { openEventStream } from './event-stream.js'

const closers: Array<() => Promise<void>> = []
afterEach(async () => { for (const close of closers.splice(0)) await close() })

describe('the event stream', () => {
  it('drops a client that stops reading, and lets go of what was queued for it', async () => {
    let send: (event: NodeEvent) => void = () => {}
    const api = {
      onEvent: (listener: (event: NodeEvent) => void) => { send = listener; return () => {} },
      replayEvents: () => ({ events: [] })
    } as unknown as NodeApi
    let stream: ServerResponse | undefined
    const server = createServer((_req, res) => {
      stream = res
      openEventStream(api, res)
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    closers.push(async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    })
    // A client that asks for the stream and then never reads it.
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
    client.on('error', () => {})
    closers.push(async () => { client.destroy() })
    client.write('GET /v1/events HTTP/1.1\r\nhost: localhost\r\n\r\n')
    client.pause()
    while (stream == null) await nextTurn()
    const res = stream
    const pad = 'x'.repeat(64 * 1024)
    // Far more than the kernel's buffers and the node's queue (SSE_MAX_QUEUED_BYTES) hold together.
    for (let i = 0; i < 4096 && !res.destroyed && !res.writableEnded; i++) {
      send({ type: 'unit:progress', time: i, data: { pad } } as unknown as NodeEvent)
      await nextTurn()
    }
    // Ended, it would wait for ever behind the megabytes queued for a client that does not read.
    expect(res.destroyed).toBe(true)
  })
})
