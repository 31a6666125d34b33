import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import {
  BLOB_PROTOCOL,
  BlobRequestSchema,
  BlobResponseSchema,
  ErrorCodes,
  FfmeshError,
  TRANSFER_CHUNK_BYTES,
  WireErrorCodes,
  type BlobRef,
  type WireErrorCode
} from '@ffmesh/protocol'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../logger.js'
import type { MeshLibp2p } from './libp2p.js'
import { serveProtocol } from './serve-protocol.js'
import type { MeshCounters } from './stats.js'
import { receiveInto } from './receive-file.js'
import { bytesOf, createStreamReader, FrameError, writeBounded, writeFrame } from './stream-io.js'

/** Concurrent blob streams one peer may open to us; a worker fetches a unit's inputs one by one. */
export const MAX_INBOUND_BLOB_STREAMS = 4
export const MAX_OUTBOUND_BLOB_STREAMS = 8
/** A request frame must arrive promptly; a silent stream would otherwise hold a slot. */
export const REQUEST_TIMEOUT_MS = 10_000
/** Whole refetches after a SHA-512 mismatch before giving up with HASH_MISMATCH. */
export const MAX_HASH_MISMATCH_RETRIES = 2
/** Resumes from the `.part` length after a broken stream, within one fetchBlob call. */
export const MAX_RESUMES = 3
const RESUME_DELAY_MS = 500

export type BlobAuthorizer = (peer: string, hash: string) => Promise<string | null>

export interface BlobProtocolInit {
  counters: MeshCounters
  logger: Logger
  corruptBlobByte?: (hash: string) => boolean
}

export interface BlobProtocol {
  start(): Promise<void>
  stop(): Promise<void>
  serve(authorize: BlobAuthorizer): void
  fetch(
    from: string,
    ref: BlobRef,
    dest: string,
    options?: { signal?: AbortSignal; onProgress?: (bytes: number) => void }
  ): Promise<void>
}

export function createBlobProtocol (libp2p: MeshLibp2p, init: BlobProtocolInit): BlobProtocol {
  let authorize: BlobAuthorizer | undefined
  const { counters, logger } = init

  const refuse = async (stream: Stream, code: WireErrorCode, message: string): Promise<void> => {
    await writeFrame(stream, { ok: false, code, message })
    await stream.close()
  }

  const handle = async (stream: Stream, peer: string): Promise<void> => {
    const reader = createStreamReader(stream)
    try {
      let request
      try {
        request = await reader.readFrame(BlobRequestSchema, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
      } catch (err) {
        const reason = err instanceof FrameError ? err.reason : 'timeout'
        counters.frameRejected(`blob-request:${reason}`)
        await refuse(stream, WireErrorCodes.BAD_REQUEST, `blob request refused: ${reason}`)
        return
      }
      const file = authorize == null ? null : await authorize(peer, request.hash)
      if (file == null) {
        await refuse(stream, WireErrorCodes.NOT_FOUND, 'no such blob here, or not granted to you')
        return
      }
      const { size } = await fs.stat(file)
      if (request.offset > size) {
        counters.frameRejected('blob-request:offset')
        await refuse(stream, WireErrorCodes.BAD_REQUEST, `offset ${request.offset} is past the blob's end (${size})`)
        return
      }
      counters.stats.blob.requestsServed++
      await writeFrame(stream, { ok: true, size })
      let corrupt = request.offset < size && init.corruptBlobByte?.(request.hash) === true
      for await (const chunk of createReadStream(file, {
        start: request.offset,
        highWaterMark: TRANSFER_CHUNK_BYTES
      })) {
        const bytes = bytesOf(chunk as Buffer)
        if (corrupt) {
          bytes[0] ^= 0xff
          corrupt = false
        }
        await writeBounded(stream, bytes)
        counters.stats.blob.bytesServed += bytes.byteLength
      }
      await stream.close()
    } finally {
      reader.dispose()
    }
  }

  /** One stream: request from the `.part` length, append, hash. Returns the digest of the whole file. */
  const fetchOnce = async (
    from: string,
    ref: BlobRef,
    part: string,
    options: { signal?: AbortSignal; onProgress?: (bytes: number) => void }
  ): Promise<string> => {
    const hasher = createHash('sha512')
    let have = await fs.stat(part).then(
      s => s.size,
      () => 0
    )
    if (have > ref.size) {
      await fs.truncate(part, 0)
      have = 0
    }
    if (have > 0) {
      for await (const chunk of createReadStream(part, { end: have - 1, highWaterMark: 1024 * 1024 })) {
        hasher.update(chunk as Buffer)
      }
      counters.stats.blob.resumes++
    }
    if (have < ref.size || ref.size === 0) {
      const stream = await dialBlob(from, options.signal)
      const reader = createStreamReader(stream)
      const fh = await fs.open(part, have === 0 ? 'w' : 'a')
      try {
        await writeFrame(stream, { hash: ref.hash, offset: have }, options)
        let response
        try {
          response = await reader.readFrame(BlobResponseSchema, options)
        } catch (err) {
          if (err instanceof FrameError && err.reason !== 'truncated') {
            counters.frameRejected(`blob-response:${err.reason}`)
          }
          throw err
        }
        if (!response.ok) {
          throw new FfmeshError(
            ErrorCodes.TRANSFER_FAILED,
            `peer ${from} refused blob ${ref.hash.slice(0, 12)}: ${response.code}: ${response.message}`,
            { wireCode: response.code }
          )
        }
        if (response.size !== ref.size) {
          throw new FfmeshError(
            ErrorCodes.TRANSFER_FAILED,
            `peer ${from} has blob ${ref.hash.slice(0, 12)} at ${response.size} bytes, expected ${ref.size}`,
            { wireCode: WireErrorCodes.HASH_MISMATCH }
          )
        }
        const onChunk = (bytes: number): void => {
          have += bytes
          counters.stats.blob.bytesFetched += bytes
          options.onProgress?.(have)
        }
        await receiveInto(reader, fh, hasher, ref.size - have, { signal: options.signal, onChunk })
        if (have < ref.size) {
          throw new FfmeshError(
            ErrorCodes.TRANSFER_FAILED,
            `peer ${from} closed the blob stream at ${have} of ${ref.size} bytes`
          )
        }
        await stream.close({ signal: options.signal }).catch(() => {
          stream.abort(new Error('close failed'))
        })
      } catch (err) {
        // What arrived before a break is on disk (receiveInto wrote it): a resume starts after it.
        stream.abort(err instanceof Error ? err : new Error(String(err)))
        throw err
      } finally {
        reader.dispose()
        await fh.close()
      }
    }
    return hasher.digest('hex')
  }

  const dialBlob = async (from: string, signal?: AbortSignal): Promise<Stream> => {
    try {
      return await libp2p.dialProtocol(peerIdFromString(from), BLOB_PROTOCOL, { signal })
    } catch (err) {
      if (signal?.aborted === true) throw err
      throw new FfmeshError(
        ErrorCodes.PEER_UNREACHABLE,
        `cannot open a blob stream to ${from}: ${(err as Error).message}; is the peer online and in the same swarm?`
      )
    }
  }

  return {
    async start () {
      await serveProtocol(
        libp2p,
        BLOB_PROTOCOL,
        handle,
        { maxInboundStreams: MAX_INBOUND_BLOB_STREAMS, maxOutboundStreams: MAX_OUTBOUND_BLOB_STREAMS },
        { logger, what: 'blob' }
      )
    },
    async stop () {
      await libp2p.unhandle(BLOB_PROTOCOL)
    },
    serve (fn) { authorize = fn },
    async fetch (from, ref, dest, options = {}) {
      const part = partialOf(dest)
      let mismatches = 0
      let resumes = 0
      for (;;) {
        options.signal?.throwIfAborted()
        let digest: string
        try {
          digest = await fetchOnce(from, ref, part, options)
        } catch (err) {
          // Refusals and aborts are final; a broken stream resumes from what reached the disk.
          if (
            options.signal?.aborted === true ||
            (err instanceof FfmeshError && err.code !== ErrorCodes.TRANSFER_FAILED) ||
            (err instanceof FfmeshError && err.details?.wireCode != null) ||
            resumes >= MAX_RESUMES
          ) {
            throw err
          }
          resumes++
          logger.debug({ peer: from, err: (err as Error).message }, 'blob stream broke; resuming')
          await new Promise(resolve => setTimeout(resolve, RESUME_DELAY_MS))
          continue
        }
        if (digest === ref.hash) {
          await fs.rename(part, dest)
          return
        }
        counters.stats.blob.hashMismatches++
        await fs.rm(part, { force: true })
        if (++mismatches > MAX_HASH_MISMATCH_RETRIES) {
          throw new FfmeshError(
            ErrorCodes.HASH_MISMATCH,
            `blob ${ref.hash.slice(0, 12)} from ${from} failed SHA-512 verification ${mismatches} times; the peer's copy may be corrupt`,
            { wireCode: WireErrorCodes.HASH_MISMATCH }
          )
        }
        logger.warn({ peer: from, hash: ref.hash }, 'blob failed SHA-512; fetching again from zero')
      }
    }
  }
}

/**
 * Where a fetch into `dest` keeps the bytes received so far: a fetch that throws leaves them, so
 * a later fetch into the same `dest` resumes after them. A caller that will not fetch there again
 * removes them (removeFetch).
 */
function partialOf (dest: string): string {
  return `${dest}.part`
}

/** Removes what a fetch into `dest` left: the file, or the bytes of one cut short. */
export async function removeFetch (dest: string): Promise<void> {
  await Promise.all([dest, partialOf(dest)].map(f => fs.rm(f, { force: true })))
}
