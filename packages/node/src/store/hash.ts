import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/** Streaming SHA-512 of a file, in lowercase hex; memory stays at one read buffer. */
export async function hashFile (file: string, options: { signal?: AbortSignal } = {}): Promise<string> {
  const hash = createHash('sha512')
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024, signal: options.signal })
  for await (const chunk of stream) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
