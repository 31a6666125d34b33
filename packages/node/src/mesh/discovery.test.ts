import type { GossipMessage } from '@ffmesh/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, describe, expect, it } from 'vitest'
import {
  meshConfig,
  newSwarmKey,
  startTestMesh,
  stopTestMesh,
  waitFor,
  type TestMesh
} from '../../../../test/helpers/mesh-fixtures.js'
import { paced } from '../../../../test/helpers/pace.js'

const capacity = {
  name: 'n',
  version: '0.1.0',
  slotsTotal: 2,
  slotsFree: 2,
  encoders: ['libx264'],
  diskFree: 10 ** 9,
  queue: 0
}

describe('mesh discovery and membership (real libp2p on loopback)', () => {
  const nodes: TestMesh[] = []
  afterAll(async () => { await Promise.all(nodes.map(stopTestMesh)) })

  it('three nodes find each other by mDNS, exchange gossip and capacity; another swarm key gets nothing', async () => {
    const key = newSwarmKey()
    // Other engineers' tests may run mDNS nodes on loopback too: assertions name specific peers.
    for (let i = 0; i < 3; i++) nodes.push(await startTestMesh(key, meshConfig({ mdns: true })))
    const outsider = await startTestMesh(
      newSwarmKey(),
      meshConfig({ mdns: true, bootstrap: nodes[0].mesh.multiaddrs() })
    )
    nodes.push(outsider)
    const [a, b, c] = nodes.map(n => n.mesh)
    nodes.forEach((n, i) => { n.mesh.setCapacity({ ...capacity, name: `node-${i}` }) })

    const outsiderSaw: GossipMessage[] = []
    outsider.mesh.onMessage(m => { outsiderSaw.push(m) })
    const aSaw: Array<{ m: GossipMessage, from: string }> = []
    a.onMessage((m, from) => { if (m.type === 'claim') aSaw.push({ m, from }) })

    for (const self of [a, b, c]) {
      const others = [a, b, c].filter(m => m !== self).map(m => m.peerId)
      await waitFor(
        () => others.every(id => self.peers().some(p => p.id === id)),
        `${self.peerId} to see the other two`,
        paced(30_000)
      )
      expect(self.peers().some(p => p.id === self.peerId)).toBe(false)
    }
    const seenByA = a.peers().find(p => p.id === b.peerId)
    expect(seenByA).toMatchObject({ slotsFree: 2, encoders: ['libx264'], diskFree: 10 ** 9 })
    expect(seenByA?.name).toMatch(/^node-[12]$/)

    await b.publish({ type: 'claim', owner: a.peerId, jobId: '01JD0000000000000000000000', index: 1, attempt: 1 })
    await waitFor(() => aSaw.length > 0, 'the claim to reach A')
    expect(aSaw[0]).toMatchObject({ from: b.peerId, m: { type: 'claim', owner: a.peerId, index: 1 } })
    expect(b.stats().published['ffmesh/1/jobs']?.messages).toBe(1)

    // The outsider dialled A directly (bootstrap) and heard mDNS: still no connection, no message.
    await new Promise(resolve => setTimeout(resolve, 2000))
    for (const m of [a, b, c]) {
      expect(m.isConnected(outsider.mesh.peerId)).toBe(false)
      expect(m.peers().some(p => p.id === outsider.mesh.peerId)).toBe(false)
    }
    expect(outsider.mesh.peers().filter(p => [a, b, c].some(m => m.peerId === p.id))).toEqual([])
    expect(outsiderSaw.filter(m => m.type === 'claim')).toEqual([])
  })
})

describe('mesh reconnection and allow-list (real libp2p on loopback)', () => {
  const nodes: TestMesh[] = []
  afterAll(async () => { await Promise.all(nodes.map(stopTestMesh)) })

  it('redials a known peer from the persistent peer store after a restart, with no bootstrap and no mDNS', async () => {
    const key = newSwarmKey()
    const a = await startTestMesh(key, meshConfig())
    nodes.push(a)
    const privateKey = await generateKeyPair('Ed25519')
    const b = await startTestMesh(key, meshConfig({ bootstrap: a.mesh.multiaddrs() }), { privateKey })
    await waitFor(() => b.mesh.isConnected(a.mesh.peerId), 'B to reach A')
    // Give the KEEP_ALIVE tag time to land in the datastore.
    await new Promise(resolve => setTimeout(resolve, 300))
    await b.mesh.stop()
    await waitFor(() => !a.mesh.isConnected(b.mesh.peerId), 'A to notice B left')

    const again = await startTestMesh(key, meshConfig(), { privateKey }, b.dir)
    nodes.push(again)
    expect(again.mesh.peerId).toBe(b.mesh.peerId)
    await waitFor(() => again.mesh.isConnected(a.mesh.peerId), 'restarted B to redial A from its peer store')
  })

  it('refuses peers outside a non-empty allowPeers list and admits those on it', async () => {
    const key = newSwarmKey()
    const allowedKey = await generateKeyPair('Ed25519')
    const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
    const allowedId = peerIdFromPrivateKey(allowedKey).toString()
    const a = await startTestMesh(key, meshConfig({ allowPeers: [allowedId] }))
    nodes.push(a)
    const stranger = await startTestMesh(key, meshConfig({ bootstrap: a.mesh.multiaddrs() }))
    nodes.push(stranger)
    const friend = await startTestMesh(key, meshConfig({ bootstrap: a.mesh.multiaddrs() }), { privateKey: allowedKey })
    nodes.push(friend)
    for (const [n, name] of [
      [a, 'a'],
      [stranger, 'stranger'],
      [friend, 'friend']
    ] as const)
      n.mesh.setCapacity({ ...capacity, name })
    await waitFor(() => a.mesh.isConnected(allowedId), 'the allowed peer to connect')
    await waitFor(() => friend.mesh.peers().some(p => p.id === a.mesh.peerId), 'the allowed peer to hear A\'s capacity')
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect(a.mesh.isConnected(stranger.mesh.peerId)).toBe(false)
    // Not the stranger's own view of the connection: A drops it after the Noise handshake, and the
    // stranger, which keeps redialling its bootstrap peer, may hold a dial that A is about to drop
    // (seen once in CI). What must hold is that nothing crosses it, either way.
    expect(a.mesh.peers().some(p => p.id === stranger.mesh.peerId)).toBe(false)
    expect(stranger.mesh.peers().some(p => p.id === a.mesh.peerId)).toBe(false)
  })
})

describe('capacity of a peer that joins (real libp2p on loopback)', () => {
  const nodes: TestMesh[] = []
  afterAll(async () => { await Promise.all(nodes.map(stopTestMesh)) })

  it("a node that joins an idle mesh hears the others' capacity at once, not at the next advert interval", async () => {
    const key = newSwarmKey()
    // The longest interval the config allows: only the adverts sent when a peer joins can explain a
    // listing within seconds. A advertised its capacity before B existed.
    const slow = { advertiseSeconds: 600 }
    const a = await startTestMesh(key, meshConfig(slow))
    nodes.push(a)
    a.mesh.setCapacity({ ...capacity, name: 'node-a' })
    await new Promise(resolve => setTimeout(resolve, 500))
    const b = await startTestMesh(key, meshConfig({ ...slow, bootstrap: a.mesh.multiaddrs() }))
    nodes.push(b)
    b.mesh.setCapacity({ ...capacity, name: 'node-b' })
    await waitFor(() => b.mesh.peers().some(p => p.id === a.mesh.peerId), 'B to list A', paced(10_000))
    await waitFor(() => a.mesh.peers().some(p => p.id === b.mesh.peerId), 'A to list B', paced(10_000))
    expect(b.mesh.peers().find(p => p.id === a.mesh.peerId)).toMatchObject({ name: 'node-a', slotsFree: 2 })
  })
})
