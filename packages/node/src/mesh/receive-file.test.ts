import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { receiveInto } from './receive-file.js'
import type { StreamReader } from './stream-io.js'

/**
 * A reader that hands out the given chunks in order, then ends, or throws `failure` instead of
 * ending, or with `stall` waits for its signal to abort, as a sender that went quiet.
 */
function fakeReader (chunks: Uint8Array[], failure?: Error | 'stall'): StreamReader & { asked: number[] } {
  const queue = [...chunks]
  const asked: number[] = []
  return {
    asked,
    async readSome (max, options) {
      asked.push(max)
      const next = queue.shift()
      if (next != null) return next.subarray(0, max)
      if (failure === 'stall') {
        return await new Promise((_resolve, reject) =>
          options?.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true })
        )
      }
      if (failure != null) throw failure
      return null
    },
    async readExactly () { throw new Error('not used') },
    async readFrame () { throw new Error('not used') },
    dispose () {}
  }
}

describe('receiveInto', () => {
  let dir: string
  let file: string
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-receive-'))
    file = path.join(dir, 'out')
  })
  afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }) })

  it('appends exactly the bytes asked for, hashes them and reports each chunk', async () => {
    await fs.writeFile(file, Uint8Array.of(0))
    const fh = await fs.open(file, 'a')
    const hasher = createHash('sha512')
    const seen: number[] = []
    // The last chunk runs past the end: the rest of it belongs to whatever follows on the stream.
    const reader = fakeReader([Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6, 7)])
    const received = await receiveInto(reader, fh, hasher, 5, { onChunk: n => seen.push(n) })
    await fh.close()
    expect(received).toBe(5)
    expect(seen).toEqual([3, 2])
    expect(reader.asked.at(-1)).toBe(2)
    expect([...await fs.readFile(file)]).toEqual([0, 1, 2, 3, 4, 5])
    expect(hasher.digest('hex')).toBe(createHash('sha512').update(Uint8Array.of(1, 2, 3, 4, 5)).digest('hex'))
  })

  it('returns the shorter count when the stream ends early, with what arrived on disk', async () => {
    const fh = await fs.open(file, 'w')
    const received = await receiveInto(fakeReader([Uint8Array.of(9, 8)]), fh, createHash('sha512'), 10)
    await fh.close()
    expect(received).toBe(2)
    expect([...await fs.readFile(file)]).toEqual([9, 8])
  })

  it('writes what arrived before a broken stream, then throws its error', async () => {
    const fh = await fs.open(file, 'w')
    const broken = fakeReader([Uint8Array.of(1, 2), Uint8Array.of(3)], new Error('stream reset'))
    await expect(receiveInto(broken, fh, createHash('sha512'), 10)).rejects.toThrow('stream reset')
    await fh.close()
    expect([...await fs.readFile(file)]).toEqual([1, 2, 3])
  })

  it('fails with TRANSFER_FAILED when the sender goes quiet, keeping what arrived', async () => {
    const fh = await fs.open(file, 'w')
    const started = performance.now()
    const quiet = receiveInto(fakeReader([Uint8Array.of(1, 2)], 'stall'), fh, createHash('sha512'), 10, { idleMs: 300 })
    await expect(quiet).rejects.toMatchObject({
      code: 'TRANSFER_FAILED',
      message: expect.stringContaining('after 2 of 10 bytes')
    })
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    await fh.close()
    expect([...await fs.readFile(file)]).toEqual([1, 2])
  })

  it('counts only the wait for data as idle, and leaves the caller\'s own abort as it is', async () => {
    const fh = await fs.open(file, 'w')
    // Each chunk comes after 150 ms: 600 ms in all, never 300 ms of silence at once. The pauses are
    // the scenario; they run on a fake clock, so a busy machine cannot stretch one past the limit.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    try {
      const slow: StreamReader = {
        ...fakeReader([]),
        async readSome (max, options) {
          // Honouring the signal as a stream does: it is how the idle watch ends a wait.
          const signal = options?.signal
          await new Promise<void>((resolve, reject) => {
            const onAbort = (): void => {
              clearTimeout(timer)
              reject(signal?.reason)
            }
            const timer = setTimeout(() => {
              signal?.removeEventListener('abort', onAbort)
              resolve()
            }, 150)
            signal?.addEventListener('abort', onAbort, { once: true })
          })
          return Uint8Array.of(7).subarray(0, max)
        }
      }
      const received = receiveInto(slow, fh, createHash('sha512'), 4, { idleMs: 300 }).catch((err: Error) => err)
      await vi.advanceTimersByTimeAsync(600)
      expect(await received).toBe(4)
    } finally {
      vi.useRealTimers()
    }
    const caller = new AbortController()
    const stopped = receiveInto(fakeReader([], 'stall'), fh, createHash('sha512'), 4, {
      idleMs: 10_000,
      signal: caller.signal
    })
    caller.abort(new Error('unit revoked'))
    await expect(stopped).rejects.toThrow('unit revoked')
    await fh.close()
  })
})
