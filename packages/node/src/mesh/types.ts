import type { StatusClient, StatusSource } from './status-protocol.js'
import type {
  BlobRef,
  CapacityAdvert,
  GossipMessage,
  MessageBody,
  PeerStatus,
  UnitResult,
  WireErrorCode
} from '@ffmesh/protocol'

/** A worker's result as pushed to the owner: the unit result plus which lease it answers. */
export interface ResultPush extends UnitResult { attempt: number }

export type Ack = { ok: true } | { ok: false, code: WireErrorCode, message: string }

export type CapacityBody = Omit<CapacityAdvert, 'v' | 'ts' | 'type'>

/**
 * What the job engine needs from the network. `createLibp2pMesh` implements it over libp2p;
 * `createLoneMesh` is the same contract for a node that talks to nobody. The engine never sees
 * libp2p types, so one code path serves one node or fifty.
 */
export interface Mesh {
  readonly peerId: string
  start(): Promise<void>
  stop(): Promise<void>
  /** Gossip a job message to the other nodes (never delivered back to this node). */
  publish(message: MessageBody<GossipMessage>): Promise<void>
  /** Validated messages from other nodes; `from` is the verified signer. */
  onMessage(handler: (message: GossipMessage, from: string) => void): () => void
  /** Fetch a blob from a peer into `dest`, verified by SHA-512, resuming after a break. */
  fetchBlob(
    from: string,
    ref: BlobRef,
    dest: string,
    options?: { signal?: AbortSignal; onProgress?: (bytes: number) => void }
  ): Promise<void>
  /** Push a converted unit to its owner; resolves with the owner's ack, rejects when unreachable. */
  pushResult(to: string, push: ResultPush, file: string, options?: { signal?: AbortSignal }): Promise<Ack>
  /** Serve blob requests: resolve to the file to send, or null to refuse (NOT_FOUND/NOT_GRANTED). */
  serveBlobs(authorize: (peer: string, hash: string) => Promise<string | null>): void
  /** Receive results: bytes land in `tmpFile`, already checked against push.hash and push.size. */
  /** `screen` answers a push from its header alone where it can, before any of its bytes are stored. */
  serveResults(
    accept: (peer: string, push: ResultPush, tmpFile: string) => Promise<Ack>,
    screen?: (peer: string, push: ResultPush) => Promise<Ack | null>
  ): void
  /** Capacity this node advertises (periodically and on change). */
  setCapacity(capacity: CapacityBody): void
  /** Peers seen by their adverts, without this node. */
  peers(): PeerStatus[]
  /** Peers heard recently and, after them, those that went away, with what they said last. */
  knownPeers(): Array<PeerStatus & { online: boolean }>
  /** Answer other nodes' status requests (their view of this node's jobs and worker). */
  serveStatus(source: StatusSource): void
  /** A status session with a peer: several requests, one stream. */
  openStatus(peer: string, options?: { signal?: AbortSignal }): Promise<StatusClient>
  /** Whether a peer is currently connected. */
  isConnected(peer: string): boolean
  onPeerChange(handler: (peer: string, connected: boolean) => void): () => void
}
