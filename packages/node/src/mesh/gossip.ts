import {
  CAPACITY_TOPIC,
  decodeGossip,
  encodeGossip,
  ErrorCodes,
  FfmeshError,
  GossipMessageSchema,
  JOBS_TOPIC,
  PROTOCOL_VERSION,
  type GossipMessage,
  type MessageBody
} from '@ffmesh/protocol'
import { TopicValidatorResult, type Message, type SubscriptionChangeData } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { Logger } from '../logger.js'
import type { MeshLibp2p } from './libp2p.js'
import { createRateLimiter } from './rate-limit.js'
import type { MeshCounters } from './stats.js'

export const TOPICS = [JOBS_TOPIC, CAPACITY_TOPIC] as const

export function topicFor (type: GossipMessage['type']): string {
  return type === 'capacity' ? CAPACITY_TOPIC : JOBS_TOPIC
}

/**
 * StrictSign makes `from` the verified signer, and no message names its own author. What is left
 * to check is that the named counterpart is not the signer: a worker's claim, heartbeat or reject
 * names the owner, the owner's grant or revoke names the worker, and work an owner does itself
 * never crosses the network. Messages claiming to come from this node were not published by it.
 */
export function senderProblem (message: GossipMessage, from: string, self: string): string | null {
  if (from === self) return 'claims-self'
  switch (message.type) {
    case 'claim': case 'heartbeat': case 'reject':
      return message.owner === from ? 'wrong-sender' : null
    case 'grant': case 'revoke':
      return message.worker === from ? 'wrong-sender' : null
    case 'handoff':
      return message.to === from ? 'wrong-sender' : null
    case 'handoff-accepted': case 'job-state':
      return message.origin === from ? 'wrong-sender' : null
    case 'delivered':
      return message.owner === from ? 'wrong-sender' : null
    default:
      return null
  }
}

/**
 * Security: the schema bounds each number, but an advert claiming more free slots than it
 * has would still win every grant (owners prefer the freest claimant). Refuse it outright.
 */
export function advertProblem (message: GossipMessage): string | null {
  return message.type === 'capacity' && message.slotsFree > message.slotsTotal ? 'absurd-capacity' : null
}

export type GossipVerdict = { ok: true, message: GossipMessage, from: string } | { ok: false, reason: string }

export function judgeGossip (msg: Message, self: string, now: number): GossipVerdict {
  if (msg.type !== 'signed') return { ok: false, reason: 'unsigned' }
  const from = msg.from.toString()
  if (!peerIdFromPublicKey(msg.key).equals(msg.from)) return { ok: false, reason: 'wrong-signer' }
  const decoded = decodeGossip(msg.data, now)
  if (!decoded.ok) return { ok: false, reason: decoded.reason }
  if (topicFor(decoded.message.type) !== msg.topic) return { ok: false, reason: 'wrong-topic' }
  const problem = senderProblem(decoded.message, from, self) ?? advertProblem(decoded.message)
  return problem == null ? { ok: true, message: decoded.message, from } : { ok: false, reason: problem }
}

export interface Gossip {
  start(): void
  stop(): void
  publish(body: MessageBody<GossipMessage>): Promise<void>
  onMessage(handler: (message: GossipMessage, from: string) => void): () => void
  /** A peer subscribed to `topic` (it connected, or came back): it has heard nothing on it yet. */
  onPeerJoined(topic: string, handler: (peer: string) => void): () => void
}

export function createGossip (
  libp2p: MeshLibp2p,
  init: { clock: () => number; counters: MeshCounters; logger: Logger }
): Gossip {
  const pubsub = libp2p.services.pubsub
  const self = libp2p.peerId.toString()
  const handlers = new Set<(message: GossipMessage, from: string) => void>()
  const joinHandlers = new Set<{ topic: string; handler: (peer: string) => void }>()
  const log = init.logger

  // Must not throw: a throwing validator counts as Ignore, and we want Reject (peer score).
  // Security: a key holder may not flood; over its rate an author's messages are ignored
  // (not rejected: an honest burst should not cost the forwarding peer its score).
  const rate = createRateLimiter({ clock: init.clock })
  const validator = (_propagator: PeerId, msg: Message): TopicValidatorResult => {
    try {
      if (msg.type === 'signed' && !rate.take(msg.from.toString())) {
        init.counters.gossipRejected('rate-limited')
        return TopicValidatorResult.Ignore
      }
      const verdict = judgeGossip(msg, self, init.clock())
      if (verdict.ok) return TopicValidatorResult.Accept
      init.counters.gossipRejected(verdict.reason)
      log.debug({ reason: verdict.reason, topic: msg.topic }, 'gossip rejected')
      return TopicValidatorResult.Reject
    } catch {
      init.counters.gossipRejected('validator-error')
      return TopicValidatorResult.Reject
    }
  }

  // A throw inside an event listener escapes libp2p's dispatch as an uncaught exception, which
  // would end the node: a handler's bug is logged instead.
  const safely = (what: string, fn: () => void): void => {
    try {
      fn()
    } catch (err) {
      log.error({ err }, `${what} handler threw`)
    }
  }

  const onPubsubMessage = (evt: CustomEvent<Message>): void => {
    const msg = evt.detail
    if (!(TOPICS as readonly string[]).includes(msg.topic)) return
    // Validated already; decoding again is cheap and keeps the validator free of shared state.
    const verdict = judgeGossip(msg, self, init.clock())
    if (!verdict.ok) return
    init.counters.received(msg.topic, msg.data.byteLength)
    for (const h of handlers) safely('gossip', () => h(verdict.message, verdict.from))
  }

  const onSubscriptionChange = (evt: CustomEvent<SubscriptionChangeData>): void => {
    const peer = evt.detail.peerId.toString()
    for (const { topic, subscribe } of evt.detail.subscriptions) {
      if (!subscribe) continue
      for (const j of joinHandlers) if (j.topic === topic) safely('peer-joined', () => j.handler(peer))
    }
  }

  return {
    start () {
      for (const topic of TOPICS) {
        pubsub.topicValidators.set(topic, validator)
        pubsub.subscribe(topic)
      }
      pubsub.addEventListener('message', onPubsubMessage)
      pubsub.addEventListener('subscription-change', onSubscriptionChange)
    },
    stop () {
      pubsub.removeEventListener('subscription-change', onSubscriptionChange)
      pubsub.removeEventListener('message', onPubsubMessage)
      for (const topic of TOPICS) {
        pubsub.unsubscribe(topic)
        pubsub.topicValidators.delete(topic)
      }
    },
    async publish (body) {
      const parsed = GossipMessageSchema.safeParse({ ...body, v: PROTOCOL_VERSION, ts: init.clock() })
      if (!parsed.success) {
        throw new FfmeshError(
          ErrorCodes.INTERNAL,
          `refusing to gossip an invalid ${body.type} message: ${parsed.error.issues[0]?.message ?? 'schema'}`
        )
      }
      const data = encodeGossip(parsed.data)
      const topic = topicFor(parsed.data.type)
      await pubsub.publish(topic, data)
      init.counters.published(topic, data.byteLength)
    },
    onMessage (handler) {
      handlers.add(handler)
      return () => {
        handlers.delete(handler)
      }
    },
    onPeerJoined (topic, handler) {
      const entry = { topic, handler }
      joinHandlers.add(entry)
      return () => {
        joinHandlers.delete(entry)
      }
    }
  }
}
