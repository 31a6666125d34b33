import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { createStreamReader } from './stream-io.js'

/** Just what the reader touches of a libp2p stream: its events and read state. */
function fakeStream (): Stream & { deliver: (data: Uint8Array | Uint8ArrayList) => void, end: () => void } {
  const target = new EventTarget()
  return Object.assign(target, {
    maxReadBufferLength: 0,
    readStatus: 'readable',
    readableEnded: false,
    deliver: (data: Uint8Array | Uint8ArrayList) => {
      target.dispatchEvent(Object.assign(new Event('message'), { data }))
    },
    end: () => {
      target.dispatchEvent(new Event('end'))
    }
  }) as unknown as Stream & { deliver: (data: Uint8Array | Uint8ArrayList) => void; end: () => void }
}

describe('stream reader', () => {
  it('readSome hands out the delivered chunks in order, as views, skipping empty ones', async () => {
    const stream = fakeStream()
    const reader = createStreamReader(stream)
    const a = Uint8Array.of(1, 2, 3, 4, 5)
    const b = Uint8Array.of(6, 7)
    stream.deliver(new Uint8ArrayList(new Uint8Array(0), a, new Uint8Array(0)))
    stream.deliver(b)
    const first = await reader.readSome(3)
    expect([...first ?? []]).toEqual([1, 2, 3])
    // A view of the delivered bytes, not a copy.
    expect(first?.buffer).toBe(a.buffer)
    expect([...await reader.readSome(100) ?? []]).toEqual([4, 5])
    const last = await reader.readSome(100)
    expect([...last ?? []]).toEqual([6, 7])
    expect(last?.buffer).toBe(b.buffer)
    stream.end()
    expect(await reader.readSome(100)).toBeNull()
    reader.dispose()
  })
})
