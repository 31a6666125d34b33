import { CAPACITY_TOPIC, type GossipMessage } from '@ffmesh/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pino } from 'pino'
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
import type { Logger } from '../logger.js'

const capacity = {
  name: 'n',
  version: '0.1.0',
  slotsTotal: 2,
  slotsFree: 2,
  encoders: ['libx264'],
  diskFree: 10 ** 9,
  queue: 0
}

/** A node's log lines as objects: what a node reports doing is what a test can wait for. */
function recordLog (): { logger: Logger, lines: Array<{ msg?: string, peer?: string }> } {
  const lines: Array<{ msg?: string, peer?: string }> = []
  const logger = pino({ level: 'debug' }, {
    write: (line: string) => { lines.push(JSON.parse(line) as { msg?: string, peer?: string }) }
  })
  return { logger, lines }
}

/** Discovery logs each dial that fails, labelled with the address or peer id it dialled. */
const dialFailed = (lines: Array<{ msg?: string, peer?: string }>, label: string): boolean =>
  lines.some(l => l.msg === 'dial failed' && l.peer?.includes(label) === true)

describe('mesh discovery and membership (real libp2p on loopback)', () => {
  const nodes: TestMesh[] = []
  afterAll(async () => { await Promise.all(nodes.map(stopTestMesh)) })

  it('three nodes find each other by mDNS, exchange gossip and capacity; another swarm key gets nothing', async () => {
    const key = newSwarmKey()
    // Other engineers' tests may run mDNS nodes on loopback too: assertions name specific peers.
    for (let i = 0; i < 3; i++) nodes.push(await startTestMesh(key, meshConfig({ mdns: true })))
    const bootstrap = nodes[0].mesh.multiaddrs()
    const outsiderLog = recordLog()
    const outsider = await startTestMesh(newSwarmKey(), meshConfig({ mdns: true, bootstrap }), {
      logger: outsiderLog.logger
    })
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

    // The outsider dialled A directly (bootstrap) and heard mDNS: wait until both were turned away
    // (its dials fail in the Noise handshake), or it got in, which the checks below then refuse.
    const outsiderId = outsider.mesh.peerId
    await waitFor(
      () =>
        (bootstrap.every(addr => dialFailed(outsiderLog.lines, addr)) &&
          [b, c].every(m => dialFailed(outsiderLog.lines, m.peerId))) ||
        [a, b, c].some(m => m.isConnected(outsiderId)),
      'the outsider\'s bootstrap and mDNS dials to be refused',
      paced(30_000)
    )
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
    const bLog = recordLog()
    const b = await startTestMesh(key, meshConfig({ bootstrap: a.mesh.multiaddrs() }), {
      privateKey,
      logger: bLog.logger
    })
    await waitFor(() => b.mesh.isConnected(a.mesh.peerId), 'B to reach A')
    // A restart redials only the peers tagged KEEP_ALIVE in the store: stop B once A's tag is stored.
    await waitFor(
      () => bLog.lines.some(l => l.msg === 'peer kept for redial' && l.peer === a.mesh.peerId),
      'B to store A for redial'
    )
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
    const strangerLog = recordLog()
    const stranger = await startTestMesh(key, meshConfig({ bootstrap: a.mesh.multiaddrs() }), {
      logger: strangerLog.logger
    })
    nodes.push(stranger)
    const strangerLost: string[] = []
    stranger.mesh.onPeerChange((peer, connected) => { if (!connected) strangerLost.push(peer) })
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
    // A turns the stranger away after the Noise handshake: the stranger's dial fails, or the
    // connection it thought it had closes (libp2p soon redials a peer it reached, should the first
    // close have come before the listener). Or A let it in, which the checks below then refuse.
    const aId = a.mesh.peerId
    await waitFor(
      () =>
        strangerLost.includes(aId) ||
        dialFailed(strangerLog.lines, aId) ||
        a.mesh.isConnected(stranger.mesh.peerId),
      'A to turn the stranger away'
    )
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
    await waitFor(
      () => (a.mesh.stats().published[CAPACITY_TOPIC]?.messages ?? 0) > 0,
      'A to advertise into the empty mesh'
    )
    const b = await startTestMesh(key, meshConfig({ ...slow, bootstrap: a.mesh.multiaddrs() }))
    nodes.push(b)
    b.mesh.setCapacity({ ...capacity, name: 'node-b' })
    await waitFor(() => b.mesh.peers().some(p => p.id === a.mesh.peerId), 'B to list A', paced(10_000))
    await waitFor(() => a.mesh.peers().some(p => p.id === b.mesh.peerId), 'A to list B', paced(10_000))
    expect(b.mesh.peers().find(p => p.id === a.mesh.peerId)).toMatchObject({ name: 'node-a', slotsFree: 2 })
  })
})
