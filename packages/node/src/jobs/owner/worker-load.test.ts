import { describe, expect, it } from 'vitest'
import { unitOf as unit, viewOf as view } from '../../../../../test/fixtures/unit-views.js'
import type { UnitRecord } from '../../store/records.js'
import { pickCandidates } from './candidates.js'
import {
  heldByWorker,
  leasedInputPath,
  offerableWorkers,
  offerOrder,
  hasFreeSlot,
  offerRoom,
  takeRoom,
  convertingWorkers,
  unitToMove,
  waitsForFreeSlot,
  workerLoads
} from './worker-load.js'

const advert = (id: string, slotsFree: number, slotsTotal = 1) => ({ id, slotsFree, slotsTotal })

describe('worker load as the owner sees it', () => {
  it('counts leased and converting units of running jobs per worker', () => {
    const held = heldByWorker([
      view('running', [
        unit(0, 'converting', 'a'),
        unit(1, 'leased', 'a'),
        unit(2, 'verified', 'a'),
        unit(3, 'leased', 'b'),
        unit(4, 'pending', null)
      ]),
      view('done', [unit(0, 'leased', 'b')])
    ])
    expect(Object.fromEntries(held)).toEqual({ a: 2, b: 1 })
  })

  it('trusts its own leases over a lagging advert, and the advert where it holds nothing', () => {
    const loads = workerLoads([advert('a', 1), advert('b', 0), advert('c', 1, 2)], new Map([['a', 2], ['c', 1]]))
    expect(loads.map(w => [w.id, w.slotsFree])).toEqual([['a', -1], ['b', 0], ['c', 1]])
  })

  it('offers a unit per free slot plus one prefetch per worker, and at least one', () => {
    expect(offerRoom(workerLoads([advert('a', 1), advert('b', 1)], new Map()))).toBe(4)
    expect(offerRoom(workerLoads([advert('a', 1), advert('b', 1)], new Map([['a', 1], ['b', 2]])))).toBe(1)
    expect(offerRoom(workerLoads([advert('laptop', 0, 0)], new Map()))).toBe(1)
  })

  it('leaves a worker room for its free slots and one prefetch, and none once a unit waits behind that', () => {
    expect(takeRoom({ slotsFree: 2 })).toBe(3)
    expect(takeRoom({ slotsFree: 0 })).toBe(1)
    expect(takeRoom({ slotsFree: -1 })).toBe(0)
    expect(takeRoom({ slotsFree: -2 })).toBe(-1)
  })
})

describe('paused workers', () => {
  it('are left out of offers, and this node\'s own paused worker has no slots', () => {
    const workers = offerableWorkers(
      [
        { ...advert('paused', 4, 4), paused: true },
        { ...advert('busy', 0, 1), paused: false }
      ],
      { ...advert('self', 2, 2), paused: true }
    )
    expect(workers).toEqual([advert('busy', 0, 1), advert('self', 2, 0)])
    // The freest worker by far is paused: it is never invited.
    expect(pickCandidates(workerLoads(workers, new Map()), () => false, { self: 'self' })).toEqual(['busy'])
    expect(offerRoom(workerLoads(workers, new Map()))).toBe(1)
  })
})

describe('the order units are offered in', () => {
  it('goes longest first, and takes segments equal to the millisecond in index order', () => {
    // As the plan computes the bench sample's: 13.4 - 7.4 is 6, but 19.4 - 13.4 is 5.999999999999998.
    const units = [
      unit(0, 'pending', null, 7.4 - 1.4),
      unit(1, 'pending', null, 13.4 - 7.4),
      unit(2, 'pending', null, 19.4 - 13.4),
      unit(3, 'pending', null, 25.4 - 19.4),
      unit(4, 'verified', 'a'),
      unit(5, 'pending', null, 3),
      unit(6, 'pending', null, 60)
    ]
    expect(offerOrder(units).map(u => u.index)).toEqual([6, 0, 1, 2, 3, 5])
  })
})

describe('units that wait for a free slot', () => {
  it('holds a whole unit (a file\'s whole encode) for a free slot, and lets pieces be prefetched', () => {
    const kind = (k: UnitRecord['spec']['kind']) => ({ spec: { kind: k } as UnitRecord['spec'] })
    expect(waitsForFreeSlot(kind('whole'))).toBe(true)
    expect(waitsForFreeSlot(kind('segment'))).toBe(false)
    expect(waitsForFreeSlot(kind('audio'))).toBe(false)
  })

  it('sees a free slot only on a worker the unit may go to', () => {
    const loads = workerLoads([advert('a', 0), advert('b', 1), advert('c', 1, 0)], new Map())
    expect(hasFreeSlot(loads, () => false)).toBe(true)
    expect(hasFreeSlot(loads, id => id === 'b')).toBe(false)
  })
})

describe('moving a waiting unit at the end of a job', () => {
  const usable = (): boolean => true

  const converting = (units: UnitRecord[]) => convertingWorkers([view('running', units)])

  it('moves a unit waiting behind a conversion to a worker that stands idle', () => {
    const units = [unit(0, 'verified', 'b'), unit(1, 'converting', 'a'), unit(2, 'leased', 'a')]
    const loads = workerLoads([advert('a', 0), advert('b', 1)], heldByWorker([view('running', units)]))
    expect(unitToMove(units, loads, converting(units), usable)?.unit.index).toBe(2)
  })

  it("moves a unit waiting behind another job's conversion: the last clip of a batch behind the one before", () => {
    const before = view('running', [{ ...unit(0, 'converting', 'a', 75, 'whole'), jobId: 'before' }])
    const last = view('running', [unit(0, 'leased', 'a', 10), unit(1, 'verified', 'b', 3), unit(2, 'verified', 'b', 2)])
    const owned = [before, last]
    const loads = workerLoads([advert('a', 0), advert('b', 1)], heldByWorker(owned))
    expect(unitToMove(last.units, loads, convertingWorkers(owned), usable)?.unit.index).toBe(0)
    // Seen job by job, nothing of the last clip converts on a: the piece would wait there.
    expect(unitToMove(last.units, loads, convertingWorkers([last]), usable)).toBeNull()
  })

  it('moves nothing while units are pending, nobody is idle, or the unit is not waiting', () => {
    const base = [unit(1, 'converting', 'a'), unit(2, 'leased', 'a')]
    const idleB = (units: UnitRecord[]) =>
      workerLoads([advert('a', 0), advert('b', 1)], heldByWorker([view('running', units)]))
    expect(unitToMove([...base, unit(3, 'pending', null)], idleB(base), converting(base), usable)).toBeNull()
    const busy = [...base, unit(3, 'converting', 'b')]
    expect(unitToMove(busy, idleB(busy), converting(busy), usable)).toBeNull()
    // A leased unit on a worker with a free slot is being fetched, not waiting.
    const twoSlots = workerLoads([advert('a', 1, 2), advert('b', 1)], heldByWorker([view('running', base)]))
    expect(unitToMove(base, twoSlots, converting(base), usable)).toBeNull()
    expect(unitToMove(base, idleB(base), converting(base), () => false)).toBeNull()
  })
})

describe('which blobs a worker may fetch', () => {
  const withInput = (u: UnitRecord, hash: string, file: string): UnitRecord => ({
    ...u,
    spec: { ...u.spec, inputs: [{ hash, size: 1 }] },
    inputPaths: [file]
  })

  it('serves a blob only to the worker holding a live lease on a unit of a running job that needs it', () => {
    const views = [
      view('running', [
        withInput(unit(0, 'converting', 'a'), 'h0', '/b/h0'),
        withInput(unit(1, 'verified', 'b'), 'h1', '/b/h1'),
        withInput(unit(2, 'leased', 'b'), 'h2', '/b/h2')
      ]),
      view('cancelled', [withInput(unit(0, 'leased', 'a'), 'h3', '/b/h3')])
    ]
    expect(leasedInputPath(views, 'a', 'h0')).toBe('/b/h0')
    expect(leasedInputPath(views, 'b', 'h2')).toBe('/b/h2')
    expect(leasedInputPath(views, 'b', 'h0')).toBeNull()
    expect(leasedInputPath(views, 'b', 'h1')).toBeNull()
    expect(leasedInputPath(views, 'a', 'h3')).toBeNull()
  })
})
