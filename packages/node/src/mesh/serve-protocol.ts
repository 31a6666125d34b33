import type { Stream } from '@libp2p/interface'
import type { Logger } from '../logger.js'
import type { MeshLibp2p } from './libp2p.js'

/** How many streams of a protocol one connection may hold open each way. */
export interface StreamLimits { maxInboundStreams: number, maxOutboundStreams: number }

/**
 * Serves one stream protocol: each inbound stream goes to `handle` with the remote peer's id. A
 * stream that fails is logged at debug level (a peer that goes away mid-stream is routine) and
 * aborted, so it never holds one of its connection's stream slots.
 */
export async function serveProtocol (
  libp2p: MeshLibp2p,
  protocol: string,
  handle: (stream: Stream, peer: string) => Promise<void>,
  limits: StreamLimits,
  log: { logger: Logger; what: string }
): Promise<void> {
  await libp2p.handle(
    protocol,
    (stream, connection) => {
      handle(stream, connection.remotePeer.toString()).catch((err: Error) => {
        log.logger.debug({ peer: connection.remotePeer.toString(), err: err.message }, `${log.what} stream failed`)
        stream.abort(err)
      })
    },
    limits
  )
}
