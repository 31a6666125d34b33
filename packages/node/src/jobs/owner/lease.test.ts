import { describe, expect, it } from 'vitest'
import { ErrorCodes, type NodeEvent } from '@ffmesh/protocol'
import { jobRecord, OWNER_PEER as OWNER, plannedJob, useTempJobStores } from '../../../../../test/fixtures/job-log.js'
import { createEventBus } from '../../events.js'
import { createLogger } from '../../logger.js'
import type { JobComponents } from '../shared/deps.js'
import type { JobMessage } from '../shared/job-bus.js'
import { createLeases } from './lease.js'
import { createOwnerState } from './owner-state.js'
import { createQuarantine } from './quarantine.js'

const PEER_A = '12D3KooWLZd1ovTLzMaBH93PVtzD7HU5cycoXRwWNJEwneGoPj5G'
const PEER_B = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const temp = useTempJobStores('ffmesh-lease-')
const RESULT = { hash: 'c'.repeat(128), size: 9, frames: 144, durationSec: 6 }

/** A running job of three units on a real job log, and what the owner's lease transitions log, announce and send. */
async function harness () {
  const store = await temp.open()
  const jobId = await plannedJob(store, 3)
  const sent: JobMessage[] = []
  const heard: NodeEvent[] = []
  const events = createEventBus()
  events.on(e => heard.push(e))
  const c = {
    store,
    events,
    mesh: { peerId: OWNER },
    clock: Date.now,
    config: { jobs: { leaseSeconds: 30, quarantineSeconds: 60 } },
    bus: { publish: async (m: JobMessage) => { sent.push(m) } }
  } as unknown as JobComponents
  const rt = createOwnerState()
  const quarantine = createQuarantine({ durationMs: 60_000, clock: Date.now })
  const leases = createLeases(c, { rt, quarantine, log: createLogger({ level: 'silent' }) })
  const unit = (index: number) => {
    const u = store.job(jobId)?.units[index]
    if (u == null) throw new Error(`no unit ${index}`)
    return u
  }
  const logged = async () => (await store.history(jobId)).map(e => e.event.type)
  return { jobId, store, quarantine, leases, rt, unit, sent, heard, logged }
}

describe('the owner\'s lease transitions', () => {
  it('grants: logs the lease, then announces it and tells the worker', async () => {
    const h = await harness()
    expect(await h.leases.grant(h.jobId, 0, PEER_A, 1)).toBe(true)
    expect(h.unit(0)).toMatchObject({ state: 'leased', worker: PEER_A, attempts: 1 })
    expect(h.heard.map(e => e.type)).toEqual(['unit:leased'])
    expect(h.sent).toEqual([expect.objectContaining({ type: 'grant', index: 0, attempt: 1, worker: PEER_A })])
    // A lease for an attempt that is not the next one does not take, and nobody hears of it.
    expect(await h.leases.grant(h.jobId, 0, PEER_B, 1)).toBe(false)
    expect(h.sent).toHaveLength(1)
  })

  it('expires: revokes the attempt, then releases the unit as a failed try', async () => {
    const h = await harness()
    await h.leases.grant(h.jobId, 1, PEER_A, 1)
    h.sent.length = 0
    await h.leases.expire(h.unit(1))
    expect(h.sent).toEqual([expect.objectContaining({ type: 'revoke', index: 1, attempt: 1, worker: PEER_A })])
    expect(h.unit(1)).toMatchObject({
      state: 'pending',
      worker: null,
      failures: 1,
      lastError: { code: 'CONVERT_TIMEOUT' }
    })
    expect(h.heard.at(-1)).toMatchObject({ type: 'unit:released', index: 1, data: { failure: true } })
    expect(h.rt.get(h.jobId, 1).leaseUntil).toBeNull()
  })

  it('gives a returned result a full term for its check: the lease does not run out under it', async () => {
    const h = await harness()
    await h.leases.grant(h.jobId, 0, PEER_A, 1)
    // The last heartbeat was long ago: what is left of the lease would end before a slow check.
    h.rt.get(h.jobId, 0).leaseUntil = Date.now() - 1
    const before = Date.now()
    await h.leases.returned(h.unit(0), 1, PEER_A)
    expect(h.unit(0).state).toBe('returned')
    expect(h.rt.get(h.jobId, 0).leaseUntil).toBeGreaterThanOrEqual(before + 30_000)
  })

  it('counts a failure toward quarantine once its release is logged, not for each time it is tried', async () => {
    const h = await harness()
    for (const index of [0, 1]) await h.leases.grant(h.jobId, index, PEER_A, 1)
    // The job log refuses the first two releases (a full disk); the expire step makes them again.
    const append = h.store.append.bind(h.store)
    let refusals = 2
    h.store.append = async (jobId, event) => {
      if (event.type === 'unit:released' && refusals-- > 0) throw new Error('disk full')
      return await append(jobId, event)
    }
    const reason = { code: ErrorCodes.CONVERT_FAILED, message: 'ffmpeg failed' }
    await expect(h.leases.release(h.unit(0), reason, true)).rejects.toThrow('disk full')
    await expect(h.leases.release(h.unit(0), reason, true)).rejects.toThrow('disk full')
    await h.leases.release(h.unit(0), reason, true)
    await h.leases.release(h.unit(1), reason, true)
    // Two failed tries logged: below the quarantine's three.
    expect(h.quarantine.isQuarantined(PEER_A)).toBe(false)
    expect(h.heard.some(e => e.type === 'peer:quarantined')).toBe(false)
    await h.leases.grant(h.jobId, 2, PEER_A, 1)
    await h.leases.release(h.unit(2), reason, true)
    expect(h.quarantine.isQuarantined(PEER_A)).toBe(true)
  })

  it('counts a try once when the worker\'s reject and the expire step release it at the same time', async () => {
    const h = await harness()
    const reason = { code: ErrorCodes.CONVERT_FAILED, message: 'ffmpeg failed' }
    for (const index of [0, 1]) {
      await h.leases.grant(h.jobId, index, PEER_A, 1)
      // Both found the lease live: neither release is logged yet when the other starts.
      const live = h.unit(index)
      await Promise.all([h.leases.release(live, reason, true), h.leases.release(live, reason, true)])
      expect(h.unit(index)).toMatchObject({ state: 'pending', failures: 1 })
    }
    // Two failed tries: below the quarantine's three.
    expect(h.quarantine.isQuarantined(PEER_A)).toBe(false)
    expect((await h.logged()).filter(t => t === 'unit:released')).toHaveLength(2)
  })

  it('takes a failure two workers share for the source\'s: the job is marked, and neither worker is charged', async () => {
    const h = await harness()
    const layout = (peer: string) => ({
      code: ErrorCodes.CONVERT_FAILED,
      message: `from ${peer}: ffmpeg exited with 1: [libopus @ 0x${peer.length}f00] Invalid channel layout 5.1(side)`
    })
    await h.leases.grant(h.jobId, 0, PEER_A, 1)
    await h.leases.release(h.unit(0), layout(PEER_A), true)
    expect(h.rt.peekFailures(h.jobId)?.same ?? null).toBeNull()
    await h.leases.grant(h.jobId, 1, PEER_B, 1)
    await h.leases.release(h.unit(1), layout(PEER_B), true)
    expect(h.rt.peekFailures(h.jobId)?.same).toMatchObject({ index: 1, workers: [PEER_A, PEER_B] })
    // A's failure was taken back: two more of its own are two, below the quarantine's three.
    for (const index of [0, 2]) {
      await h.leases.grant(h.jobId, index, PEER_A, h.unit(index).attempts + 1)
      await h.leases.release(h.unit(index), { code: ErrorCodes.CONVERT_FAILED, message: `from ${PEER_A}: its own fault ${index}` }, true)
    }
    expect(h.quarantine.isQuarantined(PEER_A)).toBe(false)
    expect(h.quarantine.isQuarantined(PEER_B)).toBe(false)
  })

  it('lifts a quarantine that failures of the source began, once another worker fails the same way', async () => {
    const h = await harness()
    const reason = { code: ErrorCodes.CONVERT_FAILED, message: 'ffmpeg exited with 1: Invalid data found when processing input' }
    for (const index of [0, 1, 2]) {
      await h.leases.grant(h.jobId, index, PEER_A, 1)
      await h.leases.release(h.unit(index), reason, true)
    }
    // One worker failing every unit the same way may be that worker's fault: it is quarantined.
    expect(h.quarantine.isQuarantined(PEER_A)).toBe(true)
    expect(h.rt.peekFailures(h.jobId)?.same ?? null).toBeNull()
    await h.leases.grant(h.jobId, 0, PEER_B, 2)
    await h.leases.release(h.unit(0), reason, true)
    expect(h.rt.peekFailures(h.jobId)?.same?.workers).toEqual([PEER_A, PEER_B])
    expect(h.quarantine.isQuarantined(PEER_A)).toBe(false)
  })

  it('verifies a late result: the worker that holds the current lease is told to stop', async () => {
    const h = await harness()
    await h.leases.grant(h.jobId, 0, PEER_A, 1)
    await h.leases.expire(h.unit(0))
    await h.leases.grant(h.jobId, 0, PEER_B, 2)
    h.sent.length = 0
    await h.leases.verify(h.unit(0), 1, PEER_A, RESULT)
    expect(h.unit(0)).toMatchObject({ state: 'verified', worker: PEER_A, result: RESULT })
    expect(h.heard.at(-1)).toMatchObject({ type: 'unit:verified', peerId: PEER_A, data: { frames: 144 } })
    expect(h.sent).toEqual([expect.objectContaining({ type: 'revoke', index: 0, attempt: 2, worker: PEER_B })])
  })

  it('revokes a job\'s held units only, and logs nothing for it', async () => {
    const h = await harness()
    await h.leases.grant(h.jobId, 0, PEER_A, 1)
    await h.leases.grant(h.jobId, 1, PEER_B, 1)
    await h.leases.returned(h.unit(1), 1, PEER_B)
    h.sent.length = 0
    const before = await h.logged()
    await h.leases.revokeJob({ job: jobRecord(h.jobId), units: [h.unit(0), h.unit(1), h.unit(2)] }, 'test')
    // Unit 1's result is arriving and unit 2 has no lease: only unit 0's worker is told.
    expect(h.sent).toEqual([expect.objectContaining({ type: 'revoke', index: 0, attempt: 1, worker: PEER_A })])
    expect(await h.logged()).toEqual(before)
  })
})
