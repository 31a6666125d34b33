import {
  decodeFrameBody,
  decodeFrameLength,
  encodeFrame,
  FRAME_PREFIX_BYTES,
  type FrameRejectReason
} from '@ffmesh/protocol'
import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import type { z } from 'zod'

/**
 * Bytes we let pile up unread before pausing the remote. A paused stream still receives up to the
 * yamux window (16 MiB), so the stream's own read limit is raised above that or it resets.
 */
export const READ_HIGH_WATER_BYTES = 4 * 1024 * 1024
export const READ_LOW_WATER_BYTES = 1024 * 1024
export const STREAM_READ_BUFFER_LIMIT = 40 * 1024 * 1024
/** `drain` fires on every window update, so the writer waits on the buffer length instead. */
export const WRITE_BUFFER_BOUND_BYTES = 2 * 1024 * 1024

export class FrameError extends Error {
  static override name = 'FrameError'
  override name = 'FrameError'
  constructor (readonly reason: FrameRejectReason | 'truncated') { super(`bad stream frame: ${reason}`) }
}

export interface StreamReader {
  /** Exactly `n` bytes, or a FrameError('truncated') if the stream ends first. */
  readExactly(n: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>
  /**
   * The oldest buffered chunk (at most `max` bytes of it), waiting for one; null at the end. A view
   * of what the stream delivered, never a copy joining several chunks.
   */
  readSome(max: number, options?: { signal?: AbortSignal }): Promise<Uint8Array | null>
  readFrame<S extends z.ZodType>(schema: S, options?: { signal?: AbortSignal }): Promise<z.infer<S>>
  dispose(): void
}

/** Pull-style reader over a v3 message stream with bounded buffering (pause/resume). */
export function createStreamReader (stream: Stream): StreamReader {
  stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, STREAM_READ_BUFFER_LIMIT)
  const buffer = new Uint8ArrayList()
  let ended = false
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const notify = (): void => { const w = wake; wake = undefined; w?.() }

  let pausePending = false
  const onMessage = (evt: { data: Uint8Array | Uint8ArrayList }): void => {
    buffer.append(evt.data)
    // Pause on a later microtask, never inside the dispatch: resume() delivers the buffered data
    // first and sends its window update after, which would undo a pause made here and let the
    // remote flood the (then never drained) read buffer until the stream resets.
    if (buffer.byteLength > READ_HIGH_WATER_BYTES && !pausePending) {
      pausePending = true
      queueMicrotask(() => {
        pausePending = false
        if (buffer.byteLength > READ_HIGH_WATER_BYTES && stream.readStatus === 'readable') stream.pause()
      })
    }
    notify()
  }
  const onEnd = (): void => { ended = true; notify() }
  const onClose = (evt: Event & { error?: Error }): void => {
    if (evt.error != null) failure = evt.error
    ended = true
    notify()
  }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('end', onEnd)
  stream.addEventListener('close', onClose)
  if (stream.readableEnded) ended = true

  const maybeResume = (): void => {
    if (stream.readStatus === 'paused' && buffer.byteLength < READ_LOW_WATER_BYTES) stream.resume()
  }
  const waitForData = async (signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { reject(signal?.reason) }
      wake = () => { signal?.removeEventListener('abort', onAbort); resolve() }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  const reader: StreamReader = {
    async readExactly (n, options = {}) {
      options.signal?.throwIfAborted()
      while (buffer.byteLength < n) {
        if (ended) { if (failure != null && buffer.byteLength === 0) throw failure; throw new FrameError('truncated') }
        await waitForData(options.signal)
      }
      const out = buffer.subarray(0, n)
      buffer.consume(n)
      maybeResume()
      return out
    },
    async readSome (max, options = {}) {
      options.signal?.throwIfAborted()
      while (buffer.byteLength === 0) {
        if (ended) { if (failure != null) throw failure; return null }
        await waitForData(options.signal)
      }
      // The list iterates its chunks in order; the first with bytes is taken (consume() drops
      // any empty one before it).
      let first: Uint8Array = new Uint8Array(0)
      for (const chunk of buffer) if (chunk.byteLength > 0) { first = chunk; break }
      const out = first.subarray(0, Math.min(max, first.byteLength))
      buffer.consume(out.byteLength)
      maybeResume()
      return out
    },
    async readFrame (schema, options = {}) {
      const length = decodeFrameLength(await reader.readExactly(FRAME_PREFIX_BYTES, options))
      if (!length.ok) throw new FrameError(length.reason)
      const decoded = decodeFrameBody(schema, await reader.readExactly(length.length, options))
      if (!decoded.ok) throw new FrameError(decoded.reason)
      return decoded.value
    },
    dispose () {
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('end', onEnd)
      stream.removeEventListener('close', onClose)
    }
  }
  return reader
}

/**
 * The next `drain` event. Not `stream.onDrain()`: in @libp2p/utils 7.4 its promise is never reset
 * after the first drain, so later calls resolve at once and a writer spins on microtasks, starving
 * the event loop (seen here: a 128 MiB transfer between two processes froze the sender).
 */
async function nextDrain (stream: Stream, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (err?: unknown): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
      if (err == null) resolve()
      else reject(err)
    }
    const onDrain = (): void => { done() }
    const onClose = (evt: Event & { error?: Error }): void => {
      done(evt.error ?? new Error('stream closed while writing'))
    }
    const onAbort = (): void => { done(signal?.reason ?? new Error('aborted')) }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * A file chunk as a plain Uint8Array over the same memory: no copy per chunk sent, and none of
 * Buffer's own semantics (its slice() is a view, not a copy) reach libp2p's code. A read stream
 * allocates a fresh buffer for every chunk, so nothing rewrites it while it waits to be sent.
 */
export function bytesOf (chunk: Buffer): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/** Send with bounded memory: wait while more than WRITE_BUFFER_BOUND_BYTES sit unsent. */
export async function writeBounded (
  stream: Stream,
  data: Uint8Array,
  options: { signal?: AbortSignal } = {}
): Promise<void> {
  while (stream.writeBufferLength > WRITE_BUFFER_BOUND_BYTES) {
    options.signal?.throwIfAborted()
    if (stream.status !== 'open') throw new Error(`stream is ${stream.status}`)
    // Between a drain and the queued resend the flag is already clear: yield a turn, not a spin.
    if (stream.writableNeedsDrain) await nextDrain(stream, options.signal)
    else await new Promise(resolve => setImmediate(resolve))
  }
  stream.send(data)
}

export async function writeFrame (
  stream: Stream,
  value: unknown,
  options: { signal?: AbortSignal } = {}
): Promise<void> {
  await writeBounded(stream, encodeFrame(value), options)
}
