import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { PROTOCOL_VERSION, type GossipMessage, type MessageBody } from '@ffmesh/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { pino } from 'pino'
import { createBlobProtocol } from '../../packages/node/src/mesh/blob-protocol.js'
import { createGossip, topicFor } from '../../packages/node/src/mesh/gossip.js'
import { createMeshLibp2p, type MeshLibp2p } from '../../packages/node/src/mesh/libp2p.js'
import { createResultProtocol } from '../../packages/node/src/mesh/result-protocol.js'
import { createMeshCounters } from '../../packages/node/src/mesh/stats.js'
import type { Ack, ResultPush } from '../../packages/node/src/mesh/types.js'
import { meshConfig } from '../helpers/mesh-fixtures.js'

/**
 * A peer that holds the swarm key and lies. It is built from the real mesh parts (the
 * libp2p stack with the swarm prologue, the gossip layer, the result and blob protocols), so it
 * speaks the protocol exactly as a node does, but it also publishes raw bytes the gossip layer of
 * an honest node would refuse to send, and it can move its clock to replay old messages.
 */
export interface Liar {
  peerId: string
  libp2p: MeshLibp2p
  /** Milliseconds added to the liar's clock for what it publishes through the gossip layer. */
  skewMs: number
  /** Messages the liar has seen (validated by its own gossip layer), with their signer. */
  seen: Array<{ message: GossipMessage, from: string }>
  on(handler: (message: GossipMessage, from: string) => void): () => void
  connect(addrs: string[]): Promise<void>
  /** Publishes a message through the real gossip layer (schema-checked on the way out). */
  publish(body: MessageBody<GossipMessage>): Promise<void>
  /** Publishes any JSON on the topic its `type` belongs to, bypassing every outgoing check. */
  publishRaw(value: Record<string, unknown>): Promise<void>
  pushResult(to: string, push: ResultPush, file: string): Promise<Ack>
  fetchBlob(from: string, ref: { hash: string, size: number }, dest: string): Promise<void>
  stop(): Promise<void>
}

export async function startLiar (swarmKey: Uint8Array): Promise<Liar> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-liar-'))
  const datastore = new LevelDatastore(path.join(dir, 'peers'))
  await datastore.open()
  const libp2p = await createMeshLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    swarmKey,
    config: meshConfig(),
    datastore
  })
  const logger = pino({ level: 'silent' })
  const counters = createMeshCounters()
  const liar: Liar = {
    peerId: libp2p.peerId.toString(),
    libp2p,
    skewMs: 0,
    seen: [],
    on: (handler) => gossip.onMessage(handler),
    async connect (addrs) {
      for (const a of addrs) await libp2p.dial(multiaddr(a))
    },
    publish: async (body) => { await gossip.publish(body) },
    async publishRaw (value) {
      const message: Record<string, unknown> = { v: PROTOCOL_VERSION, ts: Date.now() + liar.skewMs, ...value }
      await libp2p.services.pubsub.publish(
        topicFor(message.type as GossipMessage['type']),
        new TextEncoder().encode(JSON.stringify(message))
      )
    },
    pushResult: async (to, push, file) => await results.push(to, push, file),
    fetchBlob: async (from, ref, dest) => { await blobs.fetch(from, ref, dest) },
    async stop () {
      gossip.stop()
      await libp2p.stop()
      await datastore.close()
      await fs.rm(dir, { recursive: true, force: true })
    }
  }
  const gossip = createGossip(libp2p, { clock: () => Date.now() + liar.skewMs, counters, logger })
  const results = createResultProtocol(libp2p, { tmpDir: path.join(dir, 'tmp'), counters, logger })
  const blobs = createBlobProtocol(libp2p, { counters, logger })
  await libp2p.start()
  gossip.start()
  gossip.onMessage((message, from) => { liar.seen.push({ message, from }) })
  return liar
}
