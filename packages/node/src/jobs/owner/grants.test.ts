import { describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '@ffmesh/protocol'
import { OWNER_PEER as OWNER, plannedJob, useTempJobStores } from '../../../../../test/fixtures/job-log.js'
import { createEventBus } from '../../events.js'
import { createLogger } from '../../logger.js'
import type { JobComponents } from '../shared/deps.js'
import { createGrants } from './grants.js'
import type { JobMessage } from '../shared/job-bus.js'
import { CLAIM_WINDOW_MS, createOwnerState } from './owner-state.js'
import { createQuarantine, QUARANTINE_AFTER_FAILURES } from './quarantine.js'
import { createLeases } from './lease.js'
import { heldByWorker } from './worker-load.js'
import { paced } from '../../../../../test/helpers/pace.js'

const PEER_A = '12D3KooWLZd1ovTLzMaBH93PVtzD7HU5cycoXRwWNJEwneGoPj5G'
const PEER_B = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const temp = useTempJobStores('ffmesh-grants-')

/**
 * The owner's claim handling on a real job log, with every worker holding one free slot: what it
 * grants, to whom, how soon, and which claimants it turns down (a revoke of the claimed attempt).
 */
async function harness (
  options: {
    kind?: 'whole'
    slotsFree?: Record<string, number>
    leftSec?: Record<string, number>
    /** Job log writes wait for this (a disk slow to sync). */
    logSynced?: Promise<void>
  } = {}
) {
  const store = await temp.open()
  const jobId = await plannedJob(store, 2, { kind: options.kind })
  const published: Array<JobMessage & { at: number }> = []
  const synced = options.logSynced
  const slowStore: typeof store =
    synced == null
      ? store
      : Object.assign(Object.create(store) as typeof store, {
        append: async (...args: Parameters<typeof store.append>) => {
          await synced
          return await store.append(...args)
        }
      })
  const c = {
    store: slowStore,
    mesh: { peerId: OWNER },
    events: createEventBus(),
    clock: Date.now,
    config: { jobs: { leaseSeconds: 30, quarantineSeconds: 60 } },
    bus: { publish: async (m: JobMessage) => { published.push({ ...m, at: performance.now() }) } }
  } as unknown as JobComponents
  const rt = createOwnerState()
  const quarantine = createQuarantine({ durationMs: 60_000, clock: Date.now })
  // As the owner sees them: a lease in the log takes its worker's slot.
  const loads = () => {
    const held = heldByWorker([store.job(jobId)].filter(v => v != null))
    return [OWNER, PEER_A, PEER_B].map(id => ({
      id,
      slotsTotal: 1,
      slotsFree: (options.slotsFree?.[id] ?? 1) - (held.get(id) ?? 0),
      held: held.get(id) ?? 0,
      leftSec: options.leftSec?.[id]
    }))
  }
  const log = createLogger({ level: 'silent' })
  const leases = createLeases(c, { rt, quarantine, log })
  const grants = createGrants(c, { rt, quarantine, leases, loads, log })
  const claimedAt = new Map<string, number>()
  const claim = (index: number, from: string, attempt = 1): void => {
    claimedAt.set(`${index}:${from}`, performance.now())
    grants.onClaim(
      { v: PROTOCOL_VERSION, ts: Date.now(), type: 'claim', owner: OWNER, jobId, index, attempt } as Extract<
        JobMessage,
        { type: 'claim' }
      >,
      from
    )
  }
  /** How long after its claim the grant of `index` to `worker` was sent. */
  const grantDelay = (index: number, worker: string): number => {
    const grant = published.find(
      m => m.type === 'grant' && (m as { index: number }).index === index && (m as { worker: string }).worker === worker
    )
    return (grant?.at ?? Infinity) - (claimedAt.get(`${index}:${worker}`) ?? 0)
  }
  const sent = (type: 'grant' | 'revoke'): Array<{ index: number; worker: string }> =>
    published
      .filter(m => m.type === type)
      .map(m => ({ index: (m as { index: number }).index, worker: (m as { worker: string }).worker }))
  const leasedTo = (index: number): string | null => store.job(jobId)?.units[index]?.worker ?? null
  const unit = (index: number) => store.job(jobId)?.units[index]
  return { store, rt, jobId, claim, sent, leasedTo, unit, quarantine, grantDelay, events: c.events }
}

/** Waits for the owner's handling of a claim (a synced log write, then a message) to show. */
async function until (what: string, done: () => boolean): Promise<void> {
  const deadline = performance.now() + paced(10_000)
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

describe('the owner grants claims', () => {
  it('grants a whole unit only to a worker with a free slot, so no file waits behind another', async () => {
    // PEER_A's slot is taken (it claims for a prefetch); PEER_B has room.
    const h = await harness({ kind: 'whole', slotsFree: { [OWNER]: 0, [PEER_A]: 0 } })
    h.rt.get(h.jobId, 0).favourite = PEER_A
    h.rt.get(h.jobId, 0).lastOfferAt = Date.now()
    h.claim(0, PEER_A)
    await until('the turn-down', () => h.sent('revoke').length > 0)
    expect(h.sent('revoke')).toEqual([{ index: 0, worker: PEER_A }])
    expect(h.leasedTo(0)).toBeNull()
    // Offered again at the next tick rather than after the re-offer pause.
    expect(h.rt.get(h.jobId, 0).lastOfferAt).toBe(0)
    h.claim(0, PEER_B)
    await until('the lease of unit 0', () => h.leasedTo(0) != null)
    expect(h.leasedTo(0)).toBe(PEER_B)
  })

  it('grants a whole unit to the busy worker its offer invited to fetch it early, and to no other busy one', async () => {
    // Both peers convert another unit; PEER_A's slot frees within seconds, so the offer invited it.
    const h = await harness({ kind: 'whole', slotsFree: { [OWNER]: 0, [PEER_A]: 0, [PEER_B]: 0 } })
    const state = h.rt.get(h.jobId, 0)
    state.favourite = PEER_A
    state.prefetcher = PEER_A
    h.claim(0, PEER_B)
    await until('the turn-down of PEER_B', () => h.sent('revoke').length > 0)
    expect(h.sent('revoke')).toEqual([{ index: 0, worker: PEER_B }])
    h.claim(0, PEER_A)
    await until('the lease of unit 0', () => h.leasedTo(0) != null)
    expect(h.leasedTo(0)).toBe(PEER_A)
    // Unit 1 was offered to the free slot PEER_A had: a prefetch of one whole unit, not two.
    h.rt.get(h.jobId, 1).prefetcher = PEER_A
    h.claim(1, PEER_A)
    await until('the turn-down of unit 1', () => h.sent('revoke').some(r => r.index === 1))
    expect(h.leasedTo(1)).toBeNull()
  })

  it('grants the offer\'s favourite at once, and others only after the claim window', async () => {
    const h = await harness()
    h.rt.get(h.jobId, 0).favourite = PEER_A
    h.rt.get(h.jobId, 1).favourite = PEER_A
    h.claim(0, PEER_A)
    h.claim(1, PEER_B)
    await until('both grants', () => h.sent('grant').length === 2)
    expect(h.sent('grant')).toEqual([{ index: 0, worker: PEER_A }, { index: 1, worker: PEER_B }])
    expect([h.leasedTo(0), h.leasedTo(1)]).toEqual([PEER_A, PEER_B])
    // Unit 1 had no favourite: its claim waited out the window for others.
    expect(h.grantDelay(1, PEER_B)).toBeGreaterThanOrEqual(CLAIM_WINDOW_MS)
  })

  it('grants this node\'s own claim on a piece at once when the offer made it the favourite', async () => {
    const h = await harness()
    h.rt.get(h.jobId, 0).favourite = OWNER
    h.claim(0, OWNER)
    // Being granted as the claim returns: no window.
    expect(h.rt.get(h.jobId, 0).granting).toBe(true)
    await until('the lease of unit 0', () => h.leasedTo(0) != null)
    expect(h.leasedTo(0)).toBe(OWNER)
    // Unit 1 had no favourite: this node's claim waits out the window, so a peer may win the tie.
    h.claim(1, OWNER)
    expect(h.rt.get(h.jobId, 1).granting).toBe(false)
  })

  it('grants the favourite over a claimant that looks freer only because its grants are not logged yet', async () => {
    // The offer counted a unit granted to this node in the same look; the loads do not show it yet.
    const h = await harness({ slotsFree: { [PEER_A]: 0 }, leftSec: { [PEER_A]: 6 } })
    h.rt.get(h.jobId, 0).favourite = PEER_A
    h.claim(0, OWNER)
    h.claim(0, PEER_A)
    await until('the lease of unit 0', () => h.leasedTo(0) != null)
    expect(h.leasedTo(0)).toBe(PEER_A)
  })

  it('grants a prefetch to the claimant whose slot frees first', async () => {
    const h = await harness({ slotsFree: { [PEER_A]: 0, [PEER_B]: 0 }, leftSec: { [PEER_A]: 16, [PEER_B]: 6 } })
    h.claim(0, PEER_A)
    h.claim(0, PEER_B)
    await until('the lease of unit 0', () => h.leasedTo(0) != null)
    expect(h.leasedTo(0)).toBe(PEER_B)
  })

  it('answers a claim heard while the unit\'s grant is being logged with that grant, not a turn-down', async () => {
    // The job log is slow to sync: PEER_A's claim outlives CLAIM_TTL_MS and it claims again, and
    // PEER_B claims, while PEER_A's lease is being logged. A turn-down of PEER_A now would revoke
    // the very attempt it is about to be granted.
    let sync = (): void => {}
    const h = await harness({ logSynced: new Promise<void>(resolve => { sync = resolve }) })
    h.rt.get(h.jobId, 0).favourite = PEER_A
    h.claim(0, PEER_A)
    expect(h.rt.get(h.jobId, 0).granting).toBe(true)
    h.claim(0, PEER_A)
    h.claim(0, PEER_B)
    // A turn-down is sent as the claim is handled; none was.
    expect(h.sent('revoke')).toEqual([])
    sync()
    await until('the turn-down of PEER_B', () => h.sent('revoke').length > 0)
    expect(h.leasedTo(0)).toBe(PEER_A)
    expect(h.sent('grant')).toEqual([{ index: 0, worker: PEER_A }])
    expect(h.sent('revoke')).toEqual([{ index: 0, worker: PEER_B }])
  })

  it('lets a peer win a tie with this node, and turns down the peer that loses to this node', async () => {
    const h = await harness()
    h.claim(0, OWNER)
    h.claim(0, PEER_A)
    await until('the lease of unit 0', () => h.leasedTo(0) != null)
    expect(h.leasedTo(0)).toBe(PEER_A)
    expect(h.sent('revoke')).toEqual([])

    // Unit 1: this node's claim is alone in the window; PEER_B claims once the grant is logged.
    h.claim(1, OWNER)
    await until('the lease of unit 1', () => h.leasedTo(1) != null)
    expect(h.leasedTo(1)).toBe(OWNER)
    h.claim(0, PEER_A)
    h.claim(1, PEER_B)
    await until('the turn-down', () => h.sent('revoke').length > 0)
    // PEER_B could not have heard a grant to this node (it never crosses the network): it is told.
    // PEER_A's repeated claim of its own lease is left alone.
    expect(h.sent('revoke')).toEqual([{ index: 1, worker: PEER_B }])
  })

  it('lets this node win a tie on a whole unit, and grants its own claim as the favourite at once', async () => {
    const h = await harness({ kind: 'whole' })
    h.claim(0, PEER_A)
    h.claim(0, OWNER)
    await until('the lease of unit 0', () => h.leasedTo(0) != null)
    expect(h.leasedTo(0)).toBe(OWNER)
    await until('the turn-down', () => h.sent('revoke').length > 0)
    expect(h.sent('revoke')).toEqual([{ index: 0, worker: PEER_A }])

    // Offered to this node first: its claim is being granted as it returns, without a window.
    const first = await harness({ kind: 'whole' })
    first.rt.get(first.jobId, 0).favourite = OWNER
    first.claim(0, OWNER)
    expect(first.rt.get(first.jobId, 0).granting).toBe(true)
    await until('the lease of unit 0', () => first.leasedTo(0) != null)
    expect(first.leasedTo(0)).toBe(OWNER)
  })

  it('grants a worker with one free slot one whole file of two it claims at once, and turns down the other', async () => {
    // The favourite's claims are granted at once, so the two grants are chosen at the same time.
    const h = await harness({ kind: 'whole' })
    h.rt.get(h.jobId, 0).favourite = PEER_A
    h.rt.get(h.jobId, 1).favourite = PEER_A
    h.claim(0, PEER_A)
    h.claim(1, PEER_A)
    await until('the turn-down', () => h.sent('revoke').length > 0)
    expect(h.sent('grant')).toEqual([{ index: 0, worker: PEER_A }])
    expect(h.sent('revoke')).toEqual([{ index: 1, worker: PEER_A }])
    expect(h.unit(1)).toMatchObject({ state: 'pending', worker: null })
  })

  it('turns down a claim on a unit of a job that no longer runs', async () => {
    // A worker kept the offer while full and claims it when a slot frees, after the job ended.
    const h = await harness()
    await h.store.append(h.jobId, { type: 'job:cancelled' })
    h.claim(0, PEER_A)
    await until('the turn-down', () => h.sent('revoke').length > 0)
    expect(h.sent('revoke')).toEqual([{ index: 0, worker: PEER_A }])
    expect(h.sent('grant')).toEqual([])
  })

  it('does not tell a worker quarantined while its lease was being logged, and offers the unit again', async () => {
    const h = await harness()
    const released: unknown[] = []
    h.events.on(e => { if (e.type === 'unit:released') released.push(e.data) })
    h.rt.get(h.jobId, 0).favourite = PEER_A
    // The favourite's claim is granted at once: the lease is chosen and its record is being written
    // when the owner hears the failures that quarantine that worker.
    h.claim(0, PEER_A)
    for (let i = 0; i < QUARANTINE_AFTER_FAILURES; i++) h.quarantine.recordFailure(PEER_A)
    await until('the release', () => released.length > 0)
    expect(h.sent('grant')).toEqual([])
    expect(h.unit(0)).toMatchObject({ state: 'pending', worker: null, attempts: 1, failures: 0 })
    expect(released).toEqual([expect.objectContaining({ code: 'UNIT_REASSIGNED', failure: false })])
  })
})
