import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { CAPACITY_TOPIC, encodeGossip, GOSSIP_MAX_AGE_MS, JOBS_TOPIC, type GossipMessage } from '@ffmesh/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub, StrictNoSign, type GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { PeerId } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { createLibp2p } from 'libp2p'
import { afterAll, describe, expect, it, vi } from 'vitest'
import {
  meshConfig,
  newSwarmKey,
  startTestMesh,
  stopTestMesh,
  waitFor,
  type TestMesh
} from '../../../../test/helpers/mesh-fixtures.js'
import { createLogger } from '../logger.js'
import { createGossip } from './gossip.js'
import { createMeshLibp2p, type MeshLibp2p } from './libp2p.js'
import { createMeshCounters } from './stats.js'
import { swarmPrologue } from './swarm-key.js'

const JOB = '01JD0000000000000000000000'
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('gossip validation (real libp2p on loopback)', () => {
  let node: TestMesh | undefined
  let raw: MeshLibp2p | undefined
  let unsigned: Awaited<ReturnType<typeof createLibp2p>> | undefined
  let rawDir: string | undefined
  afterAll(async () => {
    await raw?.stop()
    await unsigned?.stop()
    await stopTestMesh(node)
    if (rawDir != null) await fs.rm(rawDir, { recursive: true, force: true })
  })

  it('rejects and counts malformed, oversized, replayed, wrong-topic and wrong-sender gossip, and keeps working', async () => {
    const key = newSwarmKey()
    node = await startTestMesh(key, meshConfig())
    const a = node.mesh
    const got: Array<{ m: GossipMessage; from: string }> = []
    a.onMessage((m, from) => {
      got.push({ m, from })
    })

    // A peer in the swarm that speaks gossipsub directly, so it can send what our publish() refuses.
    rawDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-raw-'))
    const datastore = new LevelDatastore(rawDir)
    await datastore.open()
    raw = await createMeshLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      swarmKey: key,
      config: meshConfig(),
      datastore
    })
    await raw.start()
    const rawPubsub = raw.services.pubsub
    rawPubsub.subscribe(JOBS_TOPIC)
    rawPubsub.subscribe(CAPACITY_TOPIC)
    await raw.dial(multiaddr(a.multiaddrs()[0]))
    await waitFor(
      () => rawPubsub.getSubscribers(JOBS_TOPIC).some(p => p.toString() === a.peerId),
      'A to join the jobs topic'
    )
    const rawId = raw.peerId.toString()
    const now = Date.now()
    const claim = { v: 1, ts: now, type: 'claim', owner: a.peerId, jobId: JOB, index: 0, attempt: 1 } as const

    const refused = [
      bytes('definitely not json'),
      new Uint8Array(70 * 1024).fill(0x20),
      bytes(JSON.stringify({ ...claim, index: 'zero' })),
      bytes(JSON.stringify({ ...claim, sneaky: 1 })),
      bytes('['.repeat(20_000) + ']'.repeat(20_000)),
      encodeGossip({ ...claim, ts: now - GOSSIP_MAX_AGE_MS - 60_000 }),
      encodeGossip({ ...claim, owner: rawId }),
      encodeGossip({
        v: 1,
        ts: now,
        type: 'capacity',
        name: 'x',
        version: '1',
        slotsTotal: 1,
        slotsFree: 1,
        encoders: [],
        diskFree: 0,
        queue: 0
      })
    ]
    for (const data of refused) await rawPubsub.publish(JOBS_TOPIC, data)
    await rawPubsub.publish(JOBS_TOPIC, encodeGossip({ ...claim, index: 7 }))

    // Every message A judges is either counted as refused or handed to onMessage: once the two add
    // up to all that was sent, nothing is still on its way, and a refused one let through shows.
    const rejectedTotal = (): number => Object.values(a.stats().gossipRejected).reduce((n, k) => n + k, 0)
    await waitFor(() => rejectedTotal() + got.length >= refused.length + 1, 'A to judge every message')
    expect(got).toEqual([{ m: { ...claim, index: 7 }, from: rawId }])
    expect(a.stats().gossipRejected).toEqual({
      'not-json': 1,
      'too-large': 1,
      schema: 3,
      'too-old': 1,
      'wrong-sender': 1,
      'wrong-topic': 1
    })
    expect(a.stats().received[JOBS_TOPIC]?.messages).toBe(1)

    // Unsigned messages (StrictNoSign sender) are dropped by gossipsub itself under StrictSign.
    unsigned = await createLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise({ prologueBytes: swarmPrologue(key) })],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        pubsub: gossipsub({ globalSignaturePolicy: StrictNoSign, allowPublishToZeroTopicPeers: true })
      }
    })
    const unsignedPubsub = unsigned.services.pubsub as GossipSub
    const unsignedId = unsigned.peerId.toString()
    // gossipsub drops the unsigned message before any validator of ours runs, and says so nowhere
    // we can read: watch A's gossipsub finish handling each message it receives (every GossipSub
    // shares the prototype; only A hears the unsigned peer). A private method: were it renamed,
    // the wait below would time out rather than pass.
    const gossipsubProto = Object.getPrototypeOf(rawPubsub) as {
      handleReceivedMessage: (from: PeerId, rpcMsg: unknown) => Promise<void>
    }
    expect(gossipsubProto.handleReceivedMessage).toBeTypeOf('function')
    const handling = vi.spyOn(gossipsubProto, 'handleReceivedMessage')
    try {
      unsignedPubsub.subscribe(JOBS_TOPIC)
      await unsigned.dial(multiaddr(a.multiaddrs()[0]))
      await waitFor(
        () => unsignedPubsub.getSubscribers(JOBS_TOPIC).some(p => p.toString() === a.peerId),
        'A to be seen by the unsigned peer'
      )
      const sent = await unsignedPubsub.publish(JOBS_TOPIC, encodeGossip({ ...claim, index: 8 }))
      expect(sent.recipients.map(String)).toContain(a.peerId)
      // And the node still works: a valid signed message after all that arrives.
      await rawPubsub.publish(JOBS_TOPIC, encodeGossip({ ...claim, index: 9, ts: Date.now() }))
      await waitFor(() => got.length > 1, 'the second valid claim')
      await waitFor(
        () => handling.mock.calls.some((call, i) =>
          call[0].toString() === unsignedId && handling.mock.settledResults[i]?.type === 'fulfilled'),
        'A to have handled the unsigned message'
      )
      expect(got.map(g => (g.m as { index: number }).index)).toEqual([7, 9])
    } finally {
      handling.mockRestore()
    }
  })

  it('keeps calling the other join handlers when one throws, instead of letting it escape into libp2p', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-join-'))
    const datastore = new LevelDatastore(dir)
    await datastore.open()
    const lone = await createMeshLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      swarmKey: newSwarmKey(),
      config: meshConfig(),
      datastore
    })
    await lone.start()
    try {
      const gossip = createGossip(lone, {
        clock: Date.now,
        counters: createMeshCounters(),
        logger: createLogger({ level: 'silent' })
      })
      gossip.start()
      const joined: string[] = []
      gossip.onPeerJoined(CAPACITY_TOPIC, () => { throw new Error('a bug in a join handler') })
      gossip.onPeerJoined(CAPACITY_TOPIC, peer => { joined.push(peer) })
      const peerId = lone.peerId
      lone.services.pubsub.dispatchEvent(
        new CustomEvent('subscription-change', {
          detail: { peerId, subscriptions: [{ topic: CAPACITY_TOPIC, subscribe: true }] }
        })
      )
      expect(joined).toEqual([peerId.toString()])
      gossip.stop()
    } finally {
      await lone.stop()
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
