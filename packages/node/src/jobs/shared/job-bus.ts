import { PROTOCOL_VERSION, type GossipMessage, type MessageBody } from '@ffmesh/protocol'
import type { Component } from '../../lifecycle.js'
import type { Mesh } from '../../mesh/types.js'

export type JobMessage = Exclude<GossipMessage, { type: 'capacity' }>
type Handler = (message: JobMessage, from: string) => void

/**
 * The owner and the worker of one node talk through the same messages as remote nodes do, so a
 * lone node and a mesh of fifty run one code path. Gossipsub never delivers a node's own messages
 * back, so this delivers them locally; messages addressed only to this node skip the network.
 * Messages from other nodes arrive between start and stop.
 */
export interface JobBus extends Component {
  readonly self: string
  publish(message: MessageBody<JobMessage>): Promise<void>
  on(handler: Handler): () => void
  /** Handlers registered and not yet removed (none once every user has stopped). */
  listenerCount(): number
}

/**
 * Work between this node's owner and its own worker never crosses the network: a claim or report
 * addressed to ourselves, or a grant or revoke of our own lease. Peers would reject the latter as
 * coming from the worker it names (gossip.ts), and gossipsub scores rejects against the sender.
 */
function onlyConcernsSelf (message: JobMessage, self: string): boolean {
  if ('owner' in message && message.owner === self) return true
  return (message.type === 'grant' || message.type === 'revoke') && message.worker === self
}

export function createJobBus (mesh: Mesh, clock: () => number = Date.now): JobBus {
  const handlers = new Set<Handler>()
  const deliver = (message: JobMessage, from: string): void => {
    for (const h of handlers) h(message, from)
  }
  let unsubscribe = (): void => {}
  return {
    self: mesh.peerId,
    async start () {
      unsubscribe()
      unsubscribe = mesh.onMessage((message, from) => {
        if (message.type !== 'capacity') deliver(message, from)
      })
    },
    async stop () {
      unsubscribe()
      unsubscribe = () => {}
    },
    async publish (body) {
      const message = { ...body, v: PROTOCOL_VERSION, ts: clock() } as JobMessage
      // Local delivery first and on a later tick, so a handler never runs inside its caller.
      queueMicrotask(() => deliver(message, mesh.peerId))
      if (!onlyConcernsSelf(message, mesh.peerId)) await mesh.publish(message)
    },
    on (handler) {
      handlers.add(handler)
      return () => { handlers.delete(handler) }
    },
    listenerCount: () => handlers.size
  }
}
