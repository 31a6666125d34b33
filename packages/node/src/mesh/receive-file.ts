import type { Hash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { TRANSFER_CHUNK_BYTES } from '@ffmesh/protocol'
import { createBatchedWriter } from './batched-writer.js'
import type { StreamReader } from './stream-io.js'

export interface ReceiveOptions {
  signal?: AbortSignal
  /** Called with each chunk's length once it is queued for the file and hashed. */
  onChunk?: (bytes: number) => void
}

/**
 * Appends the next `bytes` bytes of a stream to an open file, hashing them as they come, and
 * fsyncs the file once all have arrived. Returns how many arrived: fewer when the stream ended
 * early, and the caller says what that means (a blob resumes, a result is refused). On an early
 * end or an error, what arrived is written to the file before returning or throwing, so a resume
 * starts after it.
 */
export async function receiveInto (reader: StreamReader, fh: FileHandle, hasher: Hash, bytes: number, options: ReceiveOptions = {}): Promise<number> {
  const out = createBatchedWriter(fh)
  let received = 0
  try {
    while (received < bytes) {
      const chunk = await reader.readSome(Math.min(TRANSFER_CHUNK_BYTES, bytes - received), options)
      if (chunk == null) break
      await out.write(chunk)
      hasher.update(chunk)
      received += chunk.byteLength
      options.onChunk?.(chunk.byteLength)
    }
  } catch (err) {
    await out.flush().catch(() => {})
    throw err
  }
  await out.flush()
  if (received === bytes) await fh.sync()
  return received
}
