import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, newJobId, PROTOCOL_VERSION, type UnitSpec } from '@ffmesh/protocol'
import { paced } from '../../../../../test/helpers/pace.js'
import { createEventBus } from '../../events.js'
import { createLogger } from '../../logger.js'
import type { Sub } from '../../store/job-store.js'
import type { JobComponents } from '../shared/deps.js'
import type { JobMessage } from '../shared/job-bus.js'
import { createMessageRouter } from '../shared/message-router.js'
import { createNodeControl } from './node-control.js'
import { createSchedule } from './schedule.js'
import { createWallClock } from './wall-clock.js'
import { CAPACITY_REFRESH_MS, CLAIM_TTL_MS, createWorker, type Worker } from './worker.js'

/** The store's key-value area, in memory. */
function memorySub (): Sub<unknown> {
  const map = new Map<string, unknown>()
  return {
    get: async (k) => map.get(k),
    put: async (k, v) => { map.set(k, v) },
    del: async (k) => { map.delete(k) },
    iterator: () => (async function * () {})(),
    keys: () => (async function * () {})()
  }
}

const SELF = '12D3KooWLZd1ovTLzMaBH93PVtzD7HU5cycoXRwWNJEwneGoPj5G'
const OWNER = '12D3KooWBcE2VFZkW9dWQfLKmUBuZy9f1bfrbAX7pwLrjL2G1uYq'
const OTHER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const h264 = DEFAULT_PROFILES.find(p => p.name === 'h264') as NonNullable<UnitSpec['profile']>

/**
 * One worker (1 slot, so room for 2 units with the prefetch) on a stand-in bus: what it claims,
 * and how a claim the owner turns down (a revoke of that attempt) frees its room at once. Without
 * the turn-down, a claim that lost to the owner's own worker (whose grants never cross the network)
 * held the room for CLAIM_TTL_MS, and the worker sat idle that long.
 */
function harness (init: { freeDisk?: number } = {}) {
  const published: JobMessage[] = []
  let deliver: (m: JobMessage, from: string) => void = () => {}
  const time = { now: Date.now() }
  const c = {
    config: { name: 'w', worker: { slots: 1, threads: 1, minFreeDisk: 0 }, jobs: { heartbeatSeconds: 1 } },
    mesh: {
      peerId: SELF,
      isConnected: () => true,
      setCapacity: () => {},
      // A granted unit's fetch waits until the task is stopped.
      fetchBlob: async (_owner: string, _ref: unknown, _tmp: string, { signal }: { signal: AbortSignal }) =>
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    },
    paths: { root: os.tmpdir() },
    disk: {
      dataDir: () => ({ full: false, free: init.freeDisk ?? 1e12, reserve: 0, dir: os.tmpdir(), what: 'data dir' }),
      refresh: async () => {}
    },
    fetched: { has: async () => false, tempPath: () => path.join(os.tmpdir(), 'ffmesh-never-written.fetch') },
    media: { runner: { encoders: async () => new Set(['libx264', 'aac']), filters: async () => new Set(['bwdif']) } },
    bus: {
      self: SELF,
      publish: async (m: JobMessage) => { published.push(m) },
      on: (h: typeof deliver) => { deliver = h; return () => {} }
    },
    clock: () => time.now,
    logger: createLogger({ level: 'silent' })
  } as unknown as JobComponents
  const control = createNodeControl(
    { db: memorySub(), events: createEventBus(), logger: c.logger, clock: Date.now },
    { schedule: createSchedule([], createWallClock()) }
  )
  const worker = createWorker(c, {
    version: 'test',
    acceptLocal: async () => ({ ok: true }),
    deliverRemote: async () => ({ ok: true }),
    queueLength: () => 0,
    control
  })
  // Messages reach the worker as in a node: through the router, with the other sides' types ignored.
  const ignored = (): void => {}
  const router = createMessageRouter(c.bus, {
    claim: ignored,
    heartbeat: ignored,
    reject: ignored,
    handoff: ignored,
    'handoff-accepted': ignored,
    'job-state': ignored,
    delivered: ignored,
    ...worker.messages
  })
  void router.start()
  const jobId = newJobId()
  const offer = (index: number, of: { jobId?: string, durationSec?: number } = {}): JobMessage =>
    ({
      v: PROTOCOL_VERSION,
      ts: Date.now(),
      type: 'offer',
      attempt: 1,
      expectedOutputBytes: 1,
      unit: {
        jobId: of.jobId ?? jobId,
        index,
        kind: 'segment',
        inputs: [{ hash: 'a'.repeat(128), size: 1 }],
        preRoll: false,
        range: { start: index, end: index + 1 },
        durationSec: of.durationSec ?? 1,
        inputFormat: 'mpegts',
        profile: h264
      }
    }) as JobMessage
  const revoke = (index: number, attempt = 1): JobMessage =>
    ({ v: PROTOCOL_VERSION, ts: Date.now(), type: 'revoke', jobId, index, attempt, worker: SELF }) as JobMessage
  const claims = (): Array<{ jobId: string, index: number }> =>
    published.flatMap(m => (m.type === 'claim' ? [{ jobId: m.jobId, index: m.index }] : []))
  const claimed = (): number[] => claims().map(m => m.index)
  const grant = (index: number): JobMessage =>
    ({
      v: PROTOCOL_VERSION,
      ts: Date.now(),
      type: 'grant',
      jobId,
      index,
      attempt: 1,
      worker: SELF,
      leaseMs: 60_000
    }) as JobMessage
  const send = async (m: JobMessage, from = OWNER): Promise<void> => {
    deliver(m, from)
    // onOffer is async (it awaits the claim's publish): let it settle.
    await new Promise(resolve => setImmediate(resolve))
  }
  return { worker, control, published, offer, revoke, grant, claims, claimed, send, time }
}

let running: Worker | undefined
afterEach(async () => { await running?.stop(); running = undefined })

/** A started harness, stopped after the test. */
async function started (init: Parameters<typeof harness>[0] = {}): Promise<ReturnType<typeof harness>> {
  const h = harness(init)
  running = h.worker
  await h.worker.start()
  return h
}

describe('worker claims', () => {
  it('claims up to its slots plus one prefetch, and claims a kept offer as soon as a claim is turned down', async () => {
    const h = await started()
    for (const i of [0, 1, 2]) await h.send(h.offer(i))
    expect(h.claimed()).toEqual([0, 1])

    // A revoke from a peer other than the owner, or for another attempt, changes nothing.
    await h.send(h.revoke(0), OTHER)
    await h.send(h.revoke(0, 2))
    expect(h.claimed()).toEqual([0, 1])

    // The owner turns down the claim on unit 0: the room goes to unit 2, heard while full.
    await h.send(h.revoke(0))
    expect(h.claimed()).toEqual([0, 1, 2])
  })

  it('claims no more than its free disk holds for all its units together, not for each alone', async () => {
    // Each unit needs 1 byte of input and 1 of output: room for two, not three.
    const h = await started({ freeDisk: 5 })
    for (const i of [0, 1]) await h.send(h.offer(i))
    expect(h.claimed()).toEqual([0, 1])
    await h.send(h.grant(0))
    await h.send(h.offer(2))
    await h.send(h.revoke(1))
    await h.send(h.offer(3))
    // Unit 0 converting and fetching, the claim on unit 1 turned down: unit 3 fits, unit 2 did not.
    expect(h.claimed()).toEqual([0, 1, 3])
    expect(h.published.filter(m => m.type === 'reject' && m.code === 'DISK_FULL').map(m => (m as { index: number }).index))
      .toEqual([2])
  })

  it('claims the offers it kept while full in the owner\'s order: the earliest job first, then its longest unit', async () => {
    const h = await started()
    await h.send(h.offer(0))
    await h.send(h.offer(1))
    // Full. Heard in neither the owner's order nor its reverse: an earlier job's 40 s piece, its
    // 75 s piece, then a later job's 25 s clip (the freshest, which was claimed first).
    const [earlier, later] = [newJobId(), newJobId()].sort()
    await h.send(h.offer(1, { jobId: earlier, durationSec: 40 }))
    await h.send(h.offer(0, { jobId: earlier, durationSec: 75 }))
    await h.send(h.offer(0, { jobId: later, durationSec: 25 }))
    expect(h.claimed()).toEqual([0, 1])

    await h.send(h.revoke(0))
    await h.send(h.revoke(1))
    expect(h.claims().slice(2)).toEqual([
      { jobId: earlier, index: 0 },
      { jobId: earlier, index: 1 }
    ])
    // The later job's clip is claimed when the next room frees, not lost.
    await h.send({ ...h.revoke(0), jobId: earlier } as JobMessage)
    expect(h.claims().slice(4)).toEqual([{ jobId: later, index: 0 }])
  })

  it('gives back at once a unit granted to it for a claim it no longer holds, and ignores grants to others', async () => {
    const h = await started()
    // No claim for unit 3 (dropped after CLAIM_TTL_MS, or never made): BUSY, so the owner offers it
    // again now instead of holding the lease until it runs out.
    await h.send(h.grant(3))
    expect(h.published.filter(m => m.type === 'reject')).toMatchObject([{ index: 3, attempt: 1, code: 'BUSY' }])
    expect(h.worker.running()).toEqual([])
    // A grant to another worker is none of this one's business.
    await h.send({ ...h.grant(4), worker: OTHER } as JobMessage)
    expect(h.published.filter(m => m.type === 'reject')).toHaveLength(1)
  })

  it('takes a unit granted after its claim was dropped while it has room, and gives back one it has no room for', async () => {
    const h = await started()
    await h.send(h.offer(0))
    await h.send(h.offer(1))
    // No grant within CLAIM_TTL_MS: both claims are dropped at the next capacity refresh, and
    // unit 2, heard while full, takes the room they held.
    h.time.now += CLAIM_TTL_MS + 1
    await h.send(h.offer(2))
    // The refresh runs on a real interval: on a busy machine it comes late, so the limit is paced.
    const deadline = performance.now() + paced(10 * CAPACITY_REFRESH_MS)
    while (!h.claimed().includes(2)) {
      if (performance.now() > deadline) throw new Error('the dropped claims never freed their room')
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    // The owner's slow log granted unit 0 anyway: there is room for it beside the claim on unit 2.
    await h.send(h.grant(0))
    expect(h.published.filter(m => m.type === 'reject')).toEqual([])
    expect(h.worker.running()).toMatchObject([{ jobId: expect.any(String), index: 0 }])
    // And unit 1 too, late: now full (unit 0 and the claim on unit 2), so it goes back at once.
    await h.send(h.grant(1))
    expect(h.published.filter(m => m.type === 'reject')).toMatchObject([{ index: 1, attempt: 1, code: 'BUSY' }])
  })

  it('claims nothing while paused, and gives back at once a unit granted for a claim made before', async () => {
    const h = await started()
    await h.control.start()
    await h.send(h.offer(0))
    expect(h.claimed()).toEqual([0])
    await h.control.pause({ drain: true })
    await h.send(h.offer(1))
    expect(h.claimed()).toEqual([0])
    // The owner grants unit 0, claimed before the pause: the worker says BUSY (no try spent) instead
    // of letting the lease run out.
    await h.send(h.grant(0))
    expect(h.published.filter(m => m.type === 'reject')).toMatchObject([{ index: 0, attempt: 1, code: 'BUSY' }])
    expect(h.worker.running()).toEqual([])
    await h.control.resume()
    await h.send(h.offer(2))
    expect(h.claimed()).toEqual([0, 2])
    h.control.stop()
  })
})
