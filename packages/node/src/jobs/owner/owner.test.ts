import fs from 'node:fs/promises'
import path from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, FfmeshError, newJobId, PROTOCOL_VERSION } from '@ffmesh/protocol'
import { jobRecord, logPlan, OWNER_PEER as SELF, plannedJob, unitRecord, useTempJobStores } from '../../../../../test/fixtures/job-log.js'
import { paced } from '../../../../../test/helpers/pace.js'
import { createEventBus, type EventBus } from '../../events.js'
import { createLogger } from '../../logger.js'
import type { JobStore } from '../../store/job-store.js'
import type { JobRecord } from '../../store/records.js'
import type { JobView } from '../../store/reduce.js'
import type { JobComponents } from '../shared/deps.js'
import type { JobMessage } from '../shared/job-bus.js'
import type { JobMessageOf } from '../shared/message-router.js'
import { createOwner } from './owner.js'
import { BUSY_BACKOFF_MS, REFUSAL_BACKOFF_MS, REOFFER_MS } from './owner-state.js'

const PEER_A = '12D3KooWLZd1ovTLzMaBH93PVtzD7HU5cycoXRwWNJEwneGoPj5G'
const PEER_B = '12D3KooWQRtmeT5Z5cyYnsQJMS5yt5YCpUo4jGaCexrH7ZgKpevB'
const temp = useTempJobStores('ffmesh-owner-')

/**
 * A wait for conditions, each checked every 10 ms, all within one limit (paced: stretched on a
 * slow or busy host) from this call; past it the wait throws, naming what it waited for.
 */
function waitsWithin (limitMs: number): (what: string, done: () => boolean) => Promise<void> {
  const deadline = performance.now() + paced(limitMs)
  return async (what, done) => {
    while (!done()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }
}

/**
 * An owner with no jobs, on an event bus and a mesh that count who listens, and a store that
 * counts the owner's looks at its jobs (each tick takes one).
 */
function ownerWithCounts () {
  const inner = createEventBus()
  const counts = { eventListeners: 0, peerListeners: 0, looks: 0 }
  const events: EventBus = {
    ...inner,
    on (listener) {
      counts.eventListeners++
      const off = inner.on(listener)
      return () => { counts.eventListeners--; off() }
    }
  }
  const none = (): IterableIterator<JobView> => [][Symbol.iterator]()
  const c = {
    events,
    store: { inFlight: () => { counts.looks++; return none() }, queued: none, job: () => undefined },
    mesh: {
      peerId: SELF,
      peers: () => [],
      isConnected: () => false,
      onPeerChange: () => { counts.peerListeners++; return () => { counts.peerListeners-- } }
    },
    config: { jobs: { quarantineSeconds: 60, leaseSeconds: 30, maxPlanning: 1 }, worker: { slots: 1 } },
    logger: createLogger({ level: 'silent' }),
    clock: Date.now,
    bus: { publish: async () => {} }
  } as unknown as JobComponents
  const owner = createOwner(c, { localSlotsFree: () => 1, localAcceptsWork: () => true })
  /** How many times the owner looked at its jobs in the turns after `act` (in which a kicked tick runs). */
  const looksAfter = async (act: () => void): Promise<number> => {
    const before = counts.looks
    act()
    for (let i = 0; i < 5; i++) await nextTurn()
    return counts.looks - before
  }
  return { owner, events, counts, looksAfter }
}

/** What an owner on a real job log needs, with the given peers' adverts, clock and bus. */
function ownerComponents (init: {
  store: JobStore
  peers: Array<{ id: string, slotsFree: number, slotsTotal: number, paused: boolean }>
  clock: () => number
  publish?: (m: JobMessage) => Promise<void>
}): JobComponents {
  return {
    events: createEventBus(),
    store: init.store,
    mesh: { peerId: SELF, peers: () => init.peers, isConnected: () => true, onPeerChange: () => () => {} },
    config: {
      jobs: { quarantineSeconds: 60, leaseSeconds: 30, heartbeatSeconds: 5, maxPlanning: 1, maxAttempts: 3 },
      worker: { slots: 1 }
    },
    disk: { fullFor: () => null, refresh: async () => {} },
    logger: createLogger({ level: 'silent' }),
    clock: init.clock,
    bus: { publish: init.publish ?? (async () => {}) }
  } as unknown as JobComponents
}

describe('the owner as a component', () => {
  it('listens while started, and holds no listener and runs no tick once stopped', async () => {
    const { owner, events, counts, looksAfter } = ownerWithCounts()
    await owner.start()
    expect(counts).toMatchObject({ eventListeners: 1, peerListeners: 1 })
    // A new job wakes the owner at once; once stopped, nothing does.
    expect(await looksAfter(() => events.emit('job:submitted', { jobId: 'j' }))).toBeGreaterThan(0)
    await owner.stop()
    expect(counts).toMatchObject({ eventListeners: 0, peerListeners: 0 })
    expect(await looksAfter(() => events.emit('job:submitted', { jobId: 'j' }))).toBe(0)
  })

  it('stops before it started, and twice', async () => {
    const unstarted = ownerWithCounts()
    await unstarted.owner.stop()
    expect(unstarted.counts).toMatchObject({ eventListeners: 0, peerListeners: 0 })
    const { owner, counts } = ownerWithCounts()
    await owner.start()
    await owner.stop()
    await owner.stop()
    expect(counts).toMatchObject({ eventListeners: 0, peerListeners: 0 })
  })

  /**
   * Three jobs of one whole unit each (`durationSec` long), submitted in this order and planned in
   * the reverse order (a short file's plan ends first); one peer with one free slot that never
   * claims, and this node's own worker paused. Each tick reads the clock once. Returns the offers
   * in the order sent, with their candidates, and each job's tick (lastOfferAt) once all three went out.
   */
  async function offerThreeFiles (durationSec: number) {
    const store = await temp.open()
    const jobs = [newJobId(), newJobId(), newJobId()]
    for (const id of jobs) await store.append(id, { type: 'job:submitted', job: jobRecord(id) })
    for (const id of [...jobs].reverse()) await logPlan(store, id, 1, { kind: 'whole', durationSec })
    let now = 1_000_000
    const offered: Array<{ jobId: string, candidates: string[] }> = []
    const c = ownerComponents({
      store,
      peers: [{ id: PEER_A, slotsFree: 1, slotsTotal: 1, paused: false }],
      clock: () => now,
      publish: async (m) => { if (m.type === 'offer') offered.push({ jobId: m.unit.jobId, candidates: m.candidates ?? [] }) }
    })
    const owner = createOwner(c, { localSlotsFree: () => 0, localAcceptsWork: () => false })
    await owner.start()
    try {
      const deadline = performance.now() + paced(10_000)
      while (new Set(offered.map(o => o.jobId)).size < jobs.length) {
        if (performance.now() > deadline) throw new Error(`offered only ${offered.map(o => o.jobId).join(', ')}`)
        now += 1
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    } finally {
      await owner.stop()
    }
    return { jobs, offered, ticks: jobs.map(id => owner.state.peek(id, 0)?.lastOfferAt) }
  }

  it('offers one free slot one whole file per look, earliest job first: a job offered after another sees the slot taken', async () => {
    // Two minutes each: the slot that took the first file frees far beyond the prefetch horizon.
    const { jobs, offered, ticks } = await offerThreeFiles(120)
    // Each at its own tick (a tick's offers share its clock reading), the earliest job first. The
    // clock moved less than REOFFER_MS, so none was offered twice.
    expect(offered.map(o => o.jobId)).toEqual(jobs)
    expect(new Set(ticks).size).toBe(jobs.length)
  })

  it('lets the worker whose slot frees within seconds fetch the next whole file, and no more', async () => {
    // Four seconds each: the peer that took the first file may fetch the second behind it in the
    // same look, invited alone; the third waits for a later tick.
    const { jobs, offered, ticks } = await offerThreeFiles(4)
    expect(offered.slice(0, 2)).toEqual([
      { jobId: jobs[0], candidates: [PEER_A] },
      { jobId: jobs[1], candidates: [PEER_A] }
    ])
    expect(ticks[1]).toBe(ticks[0])
    expect(ticks[2]).not.toBe(ticks[0])
  })

  /**
   * Jobs of one whole unit each, leased to the two peers (neither advertises a free slot), and the
   * heartbeats `beats` heard in time order, each a report of a unit's encode (converting unless
   * said) or of its end; a `returned` unit is then logged as returned (its worker is done with it).
   * Then a file `nextSec` long is submitted whole, and the owner's clock reads `now`. Returns the
   * workers its offer invites.
   */
  async function offerAfterBeats (init: {
    units: Array<{ worker: string, durationSec: number, returned?: boolean }>
    beats: Array<{ unit: number, progress: number, at: number, phase?: 'converting' | 'returning' }>
    now: number
    nextSec: number
  }): Promise<string[] | undefined> {
    const store = await temp.open()
    const jobs = init.units.map(() => newJobId())
    for (const [k, u] of init.units.entries()) {
      const jobId = jobs[k] as string
      await store.append(jobId, { type: 'job:submitted', job: jobRecord(jobId) })
      await logPlan(store, jobId, 1, { kind: 'whole', durationSec: u.durationSec })
      await store.append(jobId, { type: 'unit:leased', index: 0, worker: u.worker, attempt: 1, leaseUntil: init.now + 60_000 })
    }
    let now = Math.min(...init.beats.map(b => b.at))
    const offered: Array<{ jobId: string, candidates: string[] }> = []
    const c = ownerComponents({
      store,
      peers: [
        { id: PEER_A, slotsFree: 0, slotsTotal: 1, paused: false },
        { id: PEER_B, slotsFree: 0, slotsTotal: 1, paused: false }
      ],
      clock: () => now,
      publish: async (m) => { if (m.type === 'offer') offered.push({ jobId: m.unit.jobId, candidates: m.candidates ?? [] }) }
    })
    const owner = createOwner(c, { localSlotsFree: () => 0, localAcceptsWork: () => false })
    await owner.start()
    try {
      for (const beat of [...init.beats].sort((x, y) => x.at - y.at)) {
        now = beat.at
        const jobId = jobs[beat.unit] as string
        const m = { v: PROTOCOL_VERSION, ts: now, type: 'heartbeat', owner: SELF, jobId, index: 0, attempt: 1 }
        const from = init.units[beat.unit]?.worker as string
        const phase = beat.phase ?? 'converting'
        owner.messages.heartbeat({ ...m, phase, progress: beat.progress } as JobMessageOf<'heartbeat'>, from)
        for (let i = 0; i < 5; i++) await nextTurn()
        expect(owner.state.peek(jobId, 0)?.progress).toBe(beat.progress)
      }
      for (const [k, u] of init.units.entries()) {
        if (u.returned === true) await store.append(jobs[k] as string, { type: 'unit:returned', index: 0, attempt: 1 })
      }
      now = init.now
      const next = newJobId()
      await store.append(next, { type: 'job:submitted', job: jobRecord(next) })
      await logPlan(store, next, 1, { kind: 'whole', durationSec: init.nextSec })
      await waitsWithin(10_000)('the next file to be offered', () => offered.some(o => o.jobId === next))
      return offered.find(o => o.jobId === next)?.candidates
    } finally {
      await owner.stop()
    }
  }

  it('lets the worker whose slot frees first by each unit\'s speed fetch the next whole file, not the one heard from last', async () => {
    // Heartbeats every 5 s. A's unit began at T-95 s and does 1 % a second: its last report (T-5 s)
    // says 90 %, 5 s left by now. B's began at T-96 s and does 0.97 % a second: 93 % at T, 7 s
    // left. By the last reports alone B's slot looked the sooner (7 s against A's 10). The next
    // file, 30 s whole: neither slot is free, both end within the prefetch horizon.
    const T = 10_000_000
    const beats = (unit: number, perSec: number, since: number, count: number) =>
      Array.from({ length: count }, (_, k) => ({
        unit,
        at: since + k * 5_000,
        progress: Math.min(1, perSec * k * 5)
      }))
    const invited = await offerAfterBeats({
      units: [{ worker: PEER_A, durationSec: 100 }, { worker: PEER_B, durationSec: 100 }],
      beats: [
        ...beats(0, 0.01, T - 95_000, 19),
        ...beats(1, 0.93 / 96, T - 96_000, 20),
        { unit: 1, at: T, progress: 0.93 }
      ],
      now: T,
      nextSec: 30
    })
    expect(invited).toEqual([PEER_A])
  })

  it('takes a unit its worker has just begun as going at that worker\'s last speed, not as standing still', async () => {
    // Both peers convert 2 media seconds a second: B showed it on its last unit, heard only as it
    // began and as it ended (20 s in 10 s), as a piece shorter than a heartbeat is.
    // A's 20 s unit began at T-4.5 s and said 40 % at T-0.5 s: 11 s of media left by now. B's 12 s
    // unit began at T-4 s, heard once as it began: 8 s of its media done by now, 4 left. Taken
    // as standing still it had 12 left, and the next 15 s file went to A, which frees 3.5 s after B.
    const T = 10_000_000
    const invited = await offerAfterBeats({
      units: [
        { worker: PEER_B, durationSec: 20, returned: true },
        { worker: PEER_A, durationSec: 20 },
        { worker: PEER_B, durationSec: 12 }
      ],
      beats: [
        { unit: 0, at: T - 20_000, progress: 0 },
        { unit: 0, at: T - 10_000, progress: 1, phase: 'returning' },
        { unit: 1, at: T - 4_500, progress: 0 },
        { unit: 1, at: T - 500, progress: 0.4 },
        { unit: 2, at: T - 4_000, progress: 0 }
      ],
      now: T,
      nextSec: 15
    })
    expect(invited).toEqual([PEER_B])
  })

  /**
   * One job of one whole unit that reads its source (a real file), waiting for a slot: the only peer
   * is busy and this node's own worker paused. The owner's clock is `t.now`, which the test moves;
   * `t.looks` counts the owner's readings of it (one per tick). After two ticks the source changes,
   * `then` runs, and the job must end failed with SOURCE_CHANGED, its unit never offered.
   */
  async function changeSourceWhileWaiting (then: (w: {
    t: { now: number, looks: number }
    peer: { slotsFree: number }
    ticks: (n: number) => Promise<void>
    state: () => JobRecord | undefined
  }) => Promise<void>): Promise<void> {
    const store = await temp.open()
    const source = path.join(await temp.tempDir(), 'in.mkv')
    await fs.writeFile(source, 'ten bytes!')
    const { size, mtimeMs } = await fs.stat(source)
    const jobId = newJobId()
    await store.append(jobId, {
      type: 'job:submitted',
      job: jobRecord(jobId, { source, sourceSize: size, sourceMtimeMs: mtimeMs })
    })
    const unit = unitRecord(jobId, 0)
    await store.append(jobId, {
      type: 'job:planned',
      sourceHash: 'b'.repeat(128),
      units: [{ ...unit, inputPaths: [source], spec: { ...unit.spec, kind: 'whole' } }]
    })
    const t = { now: 1_000_000, looks: 0 }
    const peer = { id: PEER_A, slotsFree: 0, slotsTotal: 1, paused: false }
    const offered: string[] = []
    const c = ownerComponents({
      store,
      peers: [peer],
      clock: () => { t.looks++; return t.now },
      publish: async (m) => { if (m.type === 'offer') offered.push(m.unit.jobId) }
    })
    const owner = createOwner(c, { localSlotsFree: () => 0, localAcceptsWork: () => false })
    const until = waitsWithin(10_000)
    const ticks = async (n: number): Promise<void> => {
      const target = t.looks + n
      await until(`${n} ticks`, () => t.looks >= target)
    }
    const state = (): JobRecord | undefined => store.job(jobId)?.job
    await owner.start()
    try {
      await ticks(2)
      await fs.appendFile(source, ' and more')
      await then({ t, peer, ticks, state })
      await until('the job to fail', () => state()?.state === 'failed')
      expect(state()?.error?.code).toBe(ErrorCodes.SOURCE_CHANGED)
      expect(offered).toEqual([])
    } finally {
      await owner.stop()
    }
  }

  it('looks at a waiting whole file\'s source every few seconds, not at every tick, and fails its job with SOURCE_CHANGED once it changed', async () => {
    await changeSourceWhileWaiting(async (w) => {
      // The clock stands still: ticks come and go, none reads the source again.
      await w.ticks(5)
      expect(w.state()?.state).toBe('running')
      // Once REOFFER_MS has passed the source is read again, though no slot freed.
      w.t.now += REOFFER_MS
    })
  })

  it('looks at a whole file\'s source before offering it: a changed one fails the job with SOURCE_CHANGED and is not offered', async () => {
    await changeSourceWhileWaiting(async (w) => {
      // A slot frees well before the next periodic look is due.
      w.t.now += 1
      w.peer.slotsFree = 1
    })
  })

  /**
   * A unit leased to `worker` (its result logged as arriving when `returned`), and that worker's
   * reject of it heard while every job log append fails, as the store's own DISK_FULL does. Space
   * comes back and the lease runs out with no heartbeat or second reject: returns the unit then.
   */
  async function rejectOnFullLog (worker: string, returned: boolean, code: string, message: string) {
    const real = await temp.open()
    const jobId = await plannedJob(real, 1)
    let now = Date.now()
    let full = false
    const store = new Proxy(real, {
      get (target, key) {
        if (key === 'append' && full) {
          return async () => { throw new FfmeshError(ErrorCodes.DISK_FULL, 'the disk holding the job log is full') }
        }
        const value = Reflect.get(target, key) as unknown
        return typeof value === 'function' ? value.bind(target) : value
      }
    }) as JobStore
    const c = ownerComponents({ store, peers: [], clock: () => now })
    const owner = createOwner(c, { localSlotsFree: () => 0, localAcceptsWork: () => false })
    await owner.start()
    try {
      // Leased once the owner runs: its start gives back what its own worker held before.
      await real.append(jobId, { type: 'unit:leased', index: 0, worker, attempt: 1, leaseUntil: now + 60_000 })
      if (returned) await real.append(jobId, { type: 'unit:returned', index: 0, attempt: 1 })
      const stateBefore = real.job(jobId)?.units[0]?.state
      full = true
      const reject = {
        v: PROTOCOL_VERSION, ts: now, type: 'reject', jobId, index: 0, attempt: 1, code, message
      } as JobMessageOf<'reject'>
      owner.messages.reject(reject, worker)
      for (let i = 0; i < 5; i++) await nextTurn()
      expect(real.job(jobId)?.units[0]?.state).toBe(stateBefore)
      full = false
      now += 10 * 60_000
      await waitsWithin(10_000)('the unit to be released', () => real.job(jobId)?.units[0]?.state === 'pending')
      return real.job(jobId)?.units[0]
    } finally {
      await owner.stop()
    }
  }

  it('logs a release its full job log could not take when the lease runs out, as the refusal it was', async () => {
    const unit = await rejectOnFullLog(PEER_A, false, 'BUSY', 'paused')
    expect(unit?.failures).toBe(0)
    expect(unit?.lastError?.message).toMatch(/^BUSY from .*: paused$/)
  })

  it('ends a lease whose result was arriving when its worker gives the unit back: this node\'s own worker, its result lost to a full job log', async () => {
    // The result was logged as arriving, then its check could not be recorded; the worker removed
    // it and said so. Nothing else will end that lease, and running out is not the worker's fault.
    const unit = await rejectOnFullLog(SELF, true, 'DISK_FULL', 'the disk holding the job log is full')
    expect(unit?.failures).toBe(0)
    expect(unit?.lastError?.message).toMatch(/^DISK_FULL from .*: the disk holding the job log is full$/)
  })

  /**
   * One unit offered to the one peer, which takes the lease and gives it back with `code`. The
   * owner's clock then moves `laterMs` on. Returns whether, within three ticks after, the unit was
   * offered to that peer again (its advert says it has a free slot throughout).
   */
  async function offeredAgainAfter (code: string, laterMs: number, others: string[] = []): Promise<boolean> {
    const store = await temp.open()
    const jobId = await plannedJob(store, 1)
    const t = { now: 1_000_000, looks: 0 }
    const offered: string[][] = []
    const c = ownerComponents({
      store,
      peers: [PEER_A, ...others].map(id => ({ id, slotsFree: 1, slotsTotal: 1, paused: false })),
      clock: () => { t.looks++; return t.now },
      publish: async (m) => { if (m.type === 'offer') offered.push(m.candidates ?? []) }
    })
    const owner = createOwner(c, { localSlotsFree: () => 0, localAcceptsWork: () => false })
    const until = waitsWithin(10_000)
    await owner.start()
    try {
      await until('the first offer', () => offered.length > 0)
      await store.append(jobId, { type: 'unit:leased', index: 0, worker: PEER_A, attempt: 1, leaseUntil: t.now + 60_000 })
      const reject = {
        v: PROTOCOL_VERSION, ts: t.now, type: 'reject', jobId, index: 0, attempt: 1, code, message: 'no room'
      } as JobMessageOf<'reject'>
      owner.messages.reject(reject, PEER_A)
      await until('the release', () => store.job(jobId)?.units[0]?.state === 'pending')
      offered.length = 0
      t.now += laterMs
      const looks = t.looks + 3
      await until('three ticks', () => t.looks >= looks || offered.length > 0)
      return offered.some(candidates => candidates.includes(PEER_A))
    } finally {
      await owner.stop()
    }
  }

  it('offers a unit a worker turned back as BUSY to it again at the next re-offer, and keeps one it refused for a full disk away', async () => {
    // BUSY: no room for a grant that came late, or paused; its advert says when it has room again.
    const soon = Math.max(REOFFER_MS, BUSY_BACKOFF_MS) + 1
    expect(soon).toBeLessThan(REFUSAL_BACKOFF_MS)
    expect(await offeredAgainAfter('BUSY', soon)).toBe(true)
    expect(await offeredAgainAfter('DISK_FULL', soon)).toBe(false)
  })

  it('offers a unit whose try failed on a worker to another, and to that worker again where no other can take it', async () => {
    const soon = REOFFER_MS + 1
    expect(await offeredAgainAfter('CONVERT_FAILED', soon, [PEER_B])).toBe(false)
    expect(await offeredAgainAfter('CONVERT_FAILED', soon)).toBe(true)
  })

  it('keeps nothing of a late refusal for a done job, whose runtime it let go', async () => {
    const store = await temp.open()
    const jobId = await plannedJob(store, 2)
    for (const index of [0, 1]) {
      await store.append(jobId, { type: 'unit:leased', index, worker: PEER_A, attempt: 1, leaseUntil: Date.now() + 60_000 })
      const result = { hash: 'c'.repeat(128), size: 5, frames: 144, durationSec: 6 }
      await store.append(jobId, { type: 'unit:verified', index, worker: PEER_A, attempt: 1, result })
    }
    await store.append(jobId, { type: 'job:done', output: '/o/done.mkv', outputSize: 5 })
    const c = ownerComponents({ store, peers: [], clock: Date.now })
    const rejected: string[] = []
    c.events.on(e => { if (e.type === 'peer:rejected') rejected.push(e.peerId ?? '') })
    const owner = createOwner(c, { localSlotsFree: () => 0, localAcceptsWork: () => false })
    await owner.start()
    try {
      // A second worker of unit 0, whose try ended after the first one's result was verified.
      const reject = {
        v: PROTOCOL_VERSION, ts: Date.now(), type: 'reject', jobId, index: 0, attempt: 2, code: 'DISK_FULL',
        message: 'full'
      } as JobMessageOf<'reject'>
      owner.messages.reject(reject, PEER_B)
      await waitsWithin(10_000)('the refusal to be heard', () => rejected.length > 0)
      expect([owner.state.peek(jobId, 0), owner.state.peek(jobId, 1)]).toEqual([undefined, undefined])
      expect(store.job(jobId)?.job.state).toBe('done')
    } finally {
      await owner.stop()
    }
  })
})
