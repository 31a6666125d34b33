import { createHash, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import {
  AckSchema,
  ErrorCodes,
  FfmeshError,
  MAX_WHOLE_UNIT_BYTES,
  RESULT_PROTOCOL,
  ResultPushSchema,
  TRANSFER_CHUNK_BYTES,
  WireErrorCodes,
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
import type { Ack, ResultPush } from './types.js'

/** Results one peer may push at once: a worker has a few slots, each returns one unit. */
export const MAX_INBOUND_RESULT_STREAMS = 4
export const MAX_OUTBOUND_RESULT_STREAMS = 8
export const HEADER_TIMEOUT_MS = 10_000
/** The owner checks the result (hash, frames) before it acks; allow for a slow disk. */
export const ACK_TIMEOUT_MS = 120_000

export type ResultAcceptor = (peer: string, push: ResultPush, tmpFile: string) => Promise<Ack>
/** The acceptor's answer from a push's header alone, before its bytes are stored; null reads them. */
export type ResultScreen = (peer: string, push: ResultPush) => Promise<Ack | null>

export interface ResultProtocol {
  start(): Promise<void>
  stop(): Promise<void>
  serve(accept: ResultAcceptor, screen?: ResultScreen): void
  push(to: string, push: ResultPush, file: string, options?: { signal?: AbortSignal }): Promise<Ack>
}

export function createResultProtocol (
  libp2p: MeshLibp2p,
  init: { tmpDir: string; counters: MeshCounters; logger: Logger }
): ResultProtocol {
  let accept: ResultAcceptor | undefined
  let screen: ResultScreen | undefined
  const { counters, logger } = init

  const ack = async (stream: Stream, value: Ack): Promise<void> => {
    if (!value.ok) counters.stats.results.refused++
    await writeFrame(stream, value)
    await stream.close()
  }
  const fail = (code: WireErrorCode, message: string): Ack => ({ ok: false, code, message })

  const handle = async (stream: Stream, peer: string): Promise<void> => {
    const reader = createStreamReader(stream)
    let tmp: string | undefined
    try {
      let push: ResultPush
      try {
        push = await reader.readFrame(ResultPushSchema, { signal: AbortSignal.timeout(HEADER_TIMEOUT_MS) })
      } catch (err) {
        const reason = err instanceof FrameError ? err.reason : 'timeout'
        counters.frameRejected(`result-header:${reason}`)
        await ack(stream, fail(WireErrorCodes.BAD_REQUEST, `result header refused: ${reason}`))
        return
      }
      if (push.size > MAX_WHOLE_UNIT_BYTES) {
        await ack(stream, fail(WireErrorCodes.TOO_LARGE, `a result of ${push.size} bytes is over the limit`))
        return
      }
      if (accept == null) {
        await ack(stream, fail(WireErrorCodes.BUSY, 'this node is not accepting results yet; retry later'))
        return
      }
      let early: Ack | null = null
      try {
        early = await screen?.(peer, push) ?? null
      } catch (err) {
        logger.error({ err, peer }, 'result screen threw')
        early = fail(WireErrorCodes.GENERIC, 'the owner could not look at the result')
      }
      if (early != null) {
        // Read and dropped, not stored: the worker reads the answer once it has sent its bytes.
        await receiveInto(reader, null, null, push.size)
        await ack(stream, early)
        return
      }
      await fs.mkdir(init.tmpDir, { recursive: true })
      tmp = path.join(init.tmpDir, `result-${randomUUID()}.part`)
      const hasher = createHash('sha512')
      const fh = await fs.open(tmp, 'wx')
      try {
        if ((await receiveInto(reader, fh, hasher, push.size)) < push.size) throw new FrameError('truncated')
      } finally {
        await fh.close()
      }
      let answer: Ack
      if (hasher.digest('hex') !== push.hash) {
        answer = fail(
          WireErrorCodes.HASH_MISMATCH,
          `the ${push.size} bytes received do not match the result's SHA-512; push again`
        )
      } else {
        counters.stats.results.received++
        try {
          answer = await accept(peer, push, tmp)
        } catch (err) {
          logger.error({ err, peer }, 'result acceptor threw')
          answer = fail(WireErrorCodes.GENERIC, 'the owner could not record the result')
        }
      }
      // The acceptor moves what it keeps; the rest goes before the ack, so a worker that sees the
      // ack never races a leftover temp file.
      await fs.rm(tmp, { force: true })
      tmp = undefined
      await ack(stream, answer)
    } finally {
      reader.dispose()
      if (tmp != null) await fs.rm(tmp, { force: true })
    }
  }

  return {
    async start () {
      await serveProtocol(
        libp2p,
        RESULT_PROTOCOL,
        handle,
        { maxInboundStreams: MAX_INBOUND_RESULT_STREAMS, maxOutboundStreams: MAX_OUTBOUND_RESULT_STREAMS },
        { logger, what: 'result' }
      )
    },
    async stop () {
      await libp2p.unhandle(RESULT_PROTOCOL)
    },
    serve (fn, screenFn) {
      accept = fn
      screen = screenFn
    },
    async push (to, push, file, options = {}) {
      const header = ResultPushSchema.safeParse(push)
      if (!header.success) {
        throw new FfmeshError(
          ErrorCodes.BAD_ARGUMENTS,
          `not a valid result push: ${header.error.issues[0]?.message ?? 'schema'}`
        )
      }
      const { size } = await fs.stat(file)
      if (size !== push.size) {
        throw new FfmeshError(
          ErrorCodes.BAD_ARGUMENTS,
          `result file ${file} has ${size} bytes but the push says ${push.size}`
        )
      }
      let stream: Stream
      try {
        stream = await libp2p.dialProtocol(peerIdFromString(to), RESULT_PROTOCOL, { signal: options.signal })
      } catch (err) {
        if (options.signal?.aborted === true) throw err
        throw new FfmeshError(
          ErrorCodes.PEER_UNREACHABLE,
          `cannot reach owner ${to} to return a result: ${(err as Error).message}; it will be retried`
        )
      }
      const reader = createStreamReader(stream)
      try {
        await writeFrame(stream, header.data, options)
        for await (const chunk of createReadStream(file, {
          highWaterMark: TRANSFER_CHUNK_BYTES,
          signal: options.signal
        })) {
          await writeBounded(stream, bytesOf(chunk as Buffer), options)
        }
        const signal =
          options.signal == null
            ? AbortSignal.timeout(ACK_TIMEOUT_MS)
            : AbortSignal.any([options.signal, AbortSignal.timeout(ACK_TIMEOUT_MS)])
        let answer: Ack
        try {
          answer = await reader.readFrame(AckSchema, { signal })
        } catch (err) {
          if (err instanceof FrameError && err.reason !== 'truncated') counters.frameRejected(`ack:${err.reason}`)
          throw new FfmeshError(ErrorCodes.TRANSFER_FAILED, `owner ${to} sent no usable ack: ${(err as Error).message}`)
        }
        counters.stats.results.pushed++
        await stream.close().catch(() => {})
        return answer
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error(String(err)))
        throw err
      } finally {
        reader.dispose()
      }
    }
  }
}
