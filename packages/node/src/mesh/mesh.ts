import fs from 'node:fs/promises'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { LevelDatastore } from 'datastore-level'
import type { Config } from '../config/schema.js'
import type { DataPaths } from '../config/paths.js'
import type { Logger } from '../logger.js'
import { createBlobProtocol } from './blob-protocol.js'
import { createCapacityTable } from './capacity.js'
import { createDiscovery } from './discovery.js'
import { createGossip } from './gossip.js'
import { createMeshLibp2p } from './libp2p.js'
import { createResultProtocol } from './result-protocol.js'
import { createMeshCounters, type MeshStats } from './stats.js'
import { createStatusProtocol } from './status-protocol.js'
import type { Mesh } from './types.js'

export interface Libp2pMeshInit {
  privateKey: PrivateKey
  /** 32 bytes; nodes with another key fail the Noise handshake. */
  swarmKey: Uint8Array
  config: Config['mesh']
  name: string
  version: string
  paths: DataPaths
  logger: Logger
  clock?: () => number
  testHooks?: { corruptBlobByte?: (hash: string) => boolean }
}

export type Libp2pMesh = Mesh & {
  stats(): MeshStats
  multiaddrs(): string[]
  /** Handlers the node registered through onMessage and onPeerChange and has not removed. */
  listenerCount(): number
}

/** The mesh over libp2p: TCP + Noise (swarm-key prologue) + yamux, mDNS, gossipsub, three stream protocols. */
export async function createLibp2pMesh (init: Libp2pMeshInit): Promise<Libp2pMesh> {
  const clock = init.clock ?? Date.now
  const logger = init.logger.child({ component: 'mesh' })
  const counters = createMeshCounters()
  await fs.mkdir(init.paths.peers, { recursive: true })
  const datastore = new LevelDatastore(init.paths.peers)
  await datastore.open()
  let libp2p
  try {
    libp2p = await createMeshLibp2p({
      privateKey: init.privateKey,
      swarmKey: init.swarmKey,
      config: init.config,
      datastore
    })
  } catch (err) {
    await datastore.close()
    throw err
  }
  const node = libp2p
  const self = node.peerId.toString()
  const discovery = createDiscovery(node, { bootstrap: init.config.bootstrap, logger })
  const gossip = createGossip(node, { clock, counters, logger })
  const capacity = createCapacityTable(gossip, { self, advertiseSeconds: init.config.advertiseSeconds, clock, logger })
  const blobs = createBlobProtocol(node, { counters, logger, corruptBlobByte: init.testHooks?.corruptBlobByte })
  const results = createResultProtocol(node, { tmpDir: init.paths.tmp, counters, logger })
  const status = createStatusProtocol(node, { counters, logger, clock })
  let started = false
  let listeners = 0
  /** Counts a handler until its unsubscribe, which is safe to call twice. */
  const counted = (unsubscribe: () => void): () => void => {
    listeners++
    let removed = false
    return () => {
      if (removed) return
      removed = true
      listeners--
      unsubscribe()
    }
  }

  return {
    peerId: self,
    async start () {
      if (started) return
      started = true
      discovery.start()
      await node.start()
      await blobs.start()
      await results.start()
      await status.start()
      gossip.start()
      capacity.start()
      discovery.redialNow()
      logger.info({ peerId: self, addrs: node.getMultiaddrs().map(String) }, 'mesh started')
    },
    async stop () {
      if (started) {
        started = false
        // Unsubscribe and unhandle first: libp2p.stop() gives connections only 500 ms.
        capacity.stop()
        gossip.stop()
        discovery.stop()
        await blobs.stop().catch(() => {})
        await results.stop().catch(() => {})
        await status.stop().catch(() => {})
        await node.stop()
      }
      await datastore.close().catch(() => {})
    },
    publish: async (message) => { await gossip.publish(message) },
    onMessage: (handler) => counted(gossip.onMessage(handler)),
    fetchBlob: async (from, ref, dest, options) => { await blobs.fetch(from, ref, dest, options) },
    pushResult: async (to, push, file, options) => await results.push(to, push, file, options),
    serveBlobs: (authorize) => { blobs.serve(authorize) },
    serveResults: (accept, screen) => { results.serve(accept, screen) },
    setCapacity: (body) => { capacity.setCapacity(body) },
    peers: () => capacity.peers(),
    knownPeers: () => capacity.known(),
    serveStatus: (source) => { status.serve(source) },
    openStatus: async (peer, options) => await status.open(peer, options),
    isConnected: (peer) => {
      try {
        return node.getConnections(peerIdFromString(peer)).length > 0
      } catch {
        return false
      }
    },
    onPeerChange: (handler) => counted(discovery.onPeerChange(handler)),
    stats: () => counters.snapshot(),
    listenerCount: () => listeners,
    multiaddrs: () => node.getMultiaddrs().map(String)
  }
}
