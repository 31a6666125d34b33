import type { Hash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { ErrorCodes, FfmeshError, TRANSFER_CHUNK_BYTES } from '@ffmesh/protocol'
import { createBatchedWriter, type BatchedWriter } from './batched-writer.js'
import type { StreamReader } from './stream-io.js'

/**
 * A sender that sends nothing for this long is gone or stuck: the transfer fails (a blob fetch
 * then resumes from what arrived) instead of holding a stream slot and a temp file until the
 * connection dies. Far above any pause a busy but live peer makes between two chunks.
 */
export const RECEIVE_IDLE_TIMEOUT_MS = 30_000

export interface ReceiveOptions {
  signal?: AbortSignal
  /** Called with each chunk's length once it is queued for the file and hashed. */
  onChunk?: (bytes: number) => void
  /** Time waiting for the next chunk before failing with TRANSFER_FAILED; RECEIVE_IDLE_TIMEOUT_MS by default. */
  idleMs?: number
}

/** Where the bytes of a refused push go. */
const DROP: BatchedWriter = { write: async () => {}, flush: async () => {} }

/**
 * Appends the next `bytes` bytes of a stream to an open file, hashing them as they come. Returns
 * how many arrived: fewer when the stream ended early, and the caller says what that means (a blob
 * resumes, a result is refused). On an early end or an error, what arrived is written to the file
 * before returning or throwing, so a resume starts after it. Nothing is synced here: a file
 * becomes durable as it gets its name (BlobStore.importFile, placeFile), where that matters.
 * Without a file (and a hasher) the bytes are read and dropped: a push refused from its header.
 */
export async function receiveInto (
  reader: StreamReader,
  fh: FileHandle | null,
  hasher: Hash | null,
  bytes: number,
  options: ReceiveOptions = {}
): Promise<number> {
  const out = fh != null ? createBatchedWriter(fh) : DROP
  const idleMs = options.idleMs ?? RECEIVE_IDLE_TIMEOUT_MS
  const idle = createIdleWatch(idleMs)
  const signal = options.signal == null ? idle.signal : AbortSignal.any([options.signal, idle.signal])
  let received = 0
  try {
    while (received < bytes) {
      const chunk = await idle.during(reader.readSome(Math.min(TRANSFER_CHUNK_BYTES, bytes - received), { signal }))
      if (chunk == null) break
      await out.write(chunk)
      hasher?.update(chunk)
      received += chunk.byteLength
      options.onChunk?.(chunk.byteLength)
    }
  } catch (err) {
    await out.flush().catch(() => {})
    if (idle.signal.aborted && options.signal?.aborted !== true) {
      throw new FfmeshError(
        ErrorCodes.TRANSFER_FAILED,
        `the sender sent nothing for ${idleMs / 1000} s after ${received} of ${bytes} bytes; it is gone or stuck`
      )
    }
    throw err
  } finally {
    idle.stop()
  }
  await out.flush()
  return received
}

/**
 * Aborts its signal once one wait (`during`) has lasted `ms`; time spent between waits (writing
 * to a slow disk, say) does not count. One timer per idle period, not one per chunk.
 */
function createIdleWatch (ms: number): {
  signal: AbortSignal
  during: <T>(wait: Promise<T>) => Promise<T>
  stop: () => void
} {
  const controller = new AbortController()
  let waitingSince: number | null = null
  let timer: NodeJS.Timeout | undefined
  const arm = (delay: number): void => {
    timer = setTimeout(check, delay)
    timer.unref()
  }
  const check = (): void => {
    const waited = waitingSince == null ? 0 : performance.now() - waitingSince
    if (waited >= ms) controller.abort(new Error('idle'))
    else arm(ms - waited)
  }
  arm(ms)
  return {
    signal: controller.signal,
    async during (wait) {
      waitingSince = performance.now()
      try {
        return await wait
      } finally {
        waitingSince = null
      }
    },
    stop: () => clearTimeout(timer)
  }
}
