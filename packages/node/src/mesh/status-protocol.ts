import {
  ErrorCodes,
  FfmeshError,
  STATUS_PROTOCOL,
  StatusReplySchema,
  StatusRequestSchema,
  WireErrorCodes,
  type StatusReply,
  type StatusRequest
} from '@ffmesh/protocol'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../logger.js'
import type { MeshLibp2p } from './libp2p.js'
import { serveProtocol } from './serve-protocol.js'
import { createRateLimiter } from './rate-limit.js'
import type { MeshCounters } from './stats.js'
import { createStreamReader, FrameError, writeFrame } from './stream-io.js'

/** Status streams one connection may hold open: a caller asks one thing at a time per peer. */
export const MAX_INBOUND_STATUS_STREAMS = 2
export const MAX_OUTBOUND_STATUS_STREAMS = 4
/** A caller sends its next request promptly (it pages as fast as replies come); silence ends the stream. */
export const STATUS_IDLE_TIMEOUT_MS = 10_000
/** A reply is built from memory; a peer that takes longer than this is treated as away. */
export const STATUS_REPLY_TIMEOUT_MS = 10_000
/**
 * Requests one stream may carry. A listing of 10,000 jobs of a few units each is about 300 pages
 * of 64 KiB; a stream that goes past this is closed and the caller opens another.
 */
export const MAX_REQUESTS_PER_STREAM = 2_000
/**
 * Requests per peer: a whole listing of a busy node (300 pages, above) within a few seconds, while
 * a member that loops on requests gets BUSY and costs this node little (each page is built from
 * memory, at most 64 KiB).
 */
export const STATUS_REQUESTS_PER_SEC_PER_PEER = 100
export const STATUS_BURST_PER_PEER = 500

/** One stream's worth of answers; a session may keep a snapshot so pages stay consistent. */
export interface StatusSession {
  answer(request: StatusRequest): StatusReply | Promise<StatusReply>
}

/** Opens a session for a peer's stream. */
export type StatusSource = (peer: string) => StatusSession

export interface StatusClient {
  /** The peer's reply (a refusal too: BUSY, NOT_FOUND); throws when the stream fails. */
  request(request: StatusRequest, options?: { signal?: AbortSignal }): Promise<StatusReply>
  close(): void
}

export interface StatusProtocol {
  start(): Promise<void>
  stop(): Promise<void>
  serve(source: StatusSource): void
  open(peer: string, options?: { signal?: AbortSignal }): Promise<StatusClient>
}

export function createStatusProtocol (
  libp2p: MeshLibp2p,
  init: { counters: MeshCounters; logger: Logger; clock: () => number }
): StatusProtocol {
  let source: StatusSource | undefined
  const { counters, logger } = init
  // Security: a member may ask, not flood; see STATUS_REQUESTS_PER_SEC_PER_PEER.
  const rate = createRateLimiter({
    clock: init.clock,
    perSec: STATUS_REQUESTS_PER_SEC_PER_PEER,
    burst: STATUS_BURST_PER_PEER
  })

  const handle = async (stream: Stream, peer: string): Promise<void> => {
    const reader = createStreamReader(stream)
    const session = source?.(peer)
    try {
      for (let n = 0; n < MAX_REQUESTS_PER_STREAM; n++) {
        let request: StatusRequest
        try {
          request = await reader.readFrame(StatusRequestSchema, { signal: AbortSignal.timeout(STATUS_IDLE_TIMEOUT_MS) })
        } catch (err) {
          // The caller closed its side, or went quiet: the session is over.
          if (!(err instanceof FrameError) || err.reason === 'truncated') return
          counters.frameRejected(`status-request:${err.reason}`)
          await writeFrame(stream, {
            ok: false,
            code: WireErrorCodes.BAD_REQUEST,
            message: `status request refused: ${err.reason}`
          })
          return
        }
        let reply: StatusReply
        if (!rate.take(peer)) {
          counters.frameRejected('status-request:rate-limited')
          reply = { ok: false, code: WireErrorCodes.BUSY, message: 'too many status requests; slow down' }
        } else if (session == null) {
          reply = { ok: false, code: WireErrorCodes.BUSY, message: 'this node is starting; ask again' }
        } else {
          reply = await session.answer(request)
        }
        await writeFrame(stream, reply)
      }
    } finally {
      reader.dispose()
      // A caller that never closes its side must not keep one of its connection's stream slots.
      await stream.close({ signal: AbortSignal.timeout(STATUS_IDLE_TIMEOUT_MS) }).catch(() => {
        stream.abort(new Error('close failed'))
      })
    }
  }

  return {
    async start () {
      await serveProtocol(
        libp2p,
        STATUS_PROTOCOL,
        handle,
        { maxInboundStreams: MAX_INBOUND_STATUS_STREAMS, maxOutboundStreams: MAX_OUTBOUND_STATUS_STREAMS },
        { logger, what: 'status' }
      )
    },
    async stop () {
      await libp2p.unhandle(STATUS_PROTOCOL)
    },
    serve (fn) {
      source = fn
    },
    async open (peer, options = {}) {
      let stream: Stream
      try {
        stream = await libp2p.dialProtocol(peerIdFromString(peer), STATUS_PROTOCOL, { signal: options.signal })
      } catch (err) {
        if (options.signal?.aborted === true) throw err
        throw new FfmeshError(
          ErrorCodes.PEER_UNREACHABLE,
          `cannot ask ${peer} for its status: ${(err as Error).message}`
        )
      }
      const reader = createStreamReader(stream)
      let broken = false
      return {
        async request (request, opts = {}) {
          if (broken) throw new FfmeshError(ErrorCodes.TRANSFER_FAILED, `the status stream to ${peer} failed earlier`)
          const timeout = AbortSignal.timeout(STATUS_REPLY_TIMEOUT_MS)
          const signal = opts.signal == null ? timeout : AbortSignal.any([opts.signal, timeout])
          try {
            await writeFrame(stream, request, { signal })
            const reply = await reader.readFrame(StatusReplySchema, { signal })
            if (reply.ok && reply.type !== request.type) throw new FrameError('schema')
            return reply
          } catch (err) {
            broken = true
            if (err instanceof FrameError && err.reason !== 'truncated') {
              counters.frameRejected(`status-reply:${err.reason}`)
            }
            if (opts.signal?.aborted === true) throw err
            throw new FfmeshError(
              ErrorCodes.TRANSFER_FAILED,
              `${peer} gave no usable status reply: ${(err as Error).message}`
            )
          }
        },
        close () {
          reader.dispose()
          if (broken) stream.abort(new Error('status stream failed'))
          else {
            stream.close().catch(() => {
              stream.abort(new Error('close failed'))
            })
          }
        }
      }
    }
  }
}
