import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub, StrictSign, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { ConnectionGater, PeerId, PrivateKey } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { tcp } from '@libp2p/tcp'
import type { LevelDatastore } from 'datastore-level'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Config } from '../config/schema.js'
import { swarmPrologue } from './swarm-key.js'

export type MeshLibp2p = Libp2p<{ identify: Identify, pubsub: GossipSub }>

/**
 * yamux grows a stream's receive window up to 16 MiB by default; data in flight to a paused reader
 * lands in memory, so a smaller ceiling bounds a transfer's footprint. The initial window stays at
 * the protocol's 256 KiB so any yamux peer interoperates.
 */
export const MAX_STREAM_WINDOW_BYTES = 4 * 1024 * 1024

/** mDNS query interval; peers already up answer a newcomer's first query at once. */
export const MDNS_QUERY_INTERVAL_MS = 5_000

export interface Libp2pInit {
  privateKey: PrivateKey
  swarmKey: Uint8Array
  config: Config['mesh']
  datastore: LevelDatastore
}

function allowListGater (allowPeers: string[]): ConnectionGater {
  if (allowPeers.length === 0) return {}
  const allowed = new Set(allowPeers)
  const deny = (peer: PeerId): boolean => !allowed.has(peer.toString())
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny
  }
}

/** Created stopped, so discovery listeners are in place before the first mDNS answer. */
export async function createMeshLibp2p (init: Libp2pInit): Promise<MeshLibp2p> {
  return await createLibp2p({
    start: false,
    privateKey: init.privateKey,
    datastore: init.datastore,
    addresses: { listen: init.config.listen },
    transports: [tcp()],
    connectionEncrypters: [noise({ prologueBytes: swarmPrologue(init.swarmKey) })],
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: MAX_STREAM_WINDOW_BYTES } })],
    peerDiscovery: init.config.mdns ? [mdns({ interval: MDNS_QUERY_INTERVAL_MS })] : [],
    connectionGater: allowListGater(init.config.allowPeers),
    services: {
      identify: identify(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictSign,
        allowPublishToZeroTopicPeers: true,
        emitSelf: false
      })
    }
  })
}
