import { describe, expect, it } from 'vitest'
import { unitOf as unit, viewOf as view } from '../../../../../test/fixtures/unit-views.js'
import {
  AUDIO_COST_SHARE,
  busySec,
  countOffered,
  holdForSoonerWorker,
  keepSlotFor,
  readierFirst,
  WHOLE_PREFETCH_LEAD_SEC,
  wholePrefetcher,
  wholePrefetchHorizonSec,
  workLeft
} from './busy-time.js'
import { pickCandidates } from './candidates.js'
import { type WorkerLoad } from './worker-load.js'

const load = (id: string, slotsFree: number, leftSec?: number, slotsTotal = 1): WorkerLoad =>
  ({ id, slotsFree, slotsTotal, held: leftSec == null ? 0 : 1, leftSec })
const nobody = (): boolean => false

describe('how long a worker stays busy with this owner\'s units', () => {
  it('adds what is left of each held unit by its progress, an audio unit at its share', () => {
    const left = workLeft(
      [
        view('running', [
          unit(0, 'converting', 'a', 16),
          unit(1, 'leased', 'a', 10),
          unit(2, 'converting', 'b', 60, 'audio'),
          unit(3, 'verified', 'b', 16),
          unit(4, 'pending', null, 8)
        ]),
        view('assembling', [unit(0, 'converting', 'c', 30)])
      ],
      (_job, index) => (index === 0 ? 0.5 : 0)
    )
    expect(left.get('a')).toBeCloseTo(8 + 10)
    expect(left.get('b')).toBeCloseTo(60 * AUDIO_COST_SHARE)
    expect(left.has('c')).toBe(false)
  })

  it('is nothing with a slot free, per slot otherwise, and unknown where none of its units are', () => {
    expect(busySec(load('a', 1, 20))).toBe(0)
    expect(busySec(load('a', 0, 20, 2))).toBe(10)
    expect(busySec(load('a', 0))).toBeUndefined()
  })
})

describe('which worker takes a unit first', () => {
  it('takes free slots first, then the slot that frees first, then one it cannot tell about', () => {
    const order = [load('unknown', 0), load('late', 0, 16), load('free', 1), load('soon', -1, 6)]
      .sort(readierFirst)
      .map(w => w.id)
    expect(order).toEqual(['free', 'soon', 'late', 'unknown'])
  })

  it('invites the worker whose slot frees first for a prefetch, not a random busy one', () => {
    for (let i = 0; i < 20; i++) {
      expect(pickCandidates([load('a', 0, 16), load('b', 0, 6)], nobody, { self: 'a' })).toEqual(['b', 'a'])
    }
  })

  it('holds a piece back when the worker that frees first holds all it may take', () => {
    const full = [load('a', 0, 14), load('b', -1, 12)]
    expect(holdForSoonerWorker(full, nobody)).toBe(true)
    // The worker that frees first can still prefetch, a slot is free, or the sooner one may not take it.
    expect(holdForSoonerWorker([load('a', 0, 14), load('b', 0, 12)], nobody)).toBe(false)
    expect(holdForSoonerWorker([...full, load('c', 1)], nobody)).toBe(false)
    expect(holdForSoonerWorker(full, id => id === 'b')).toBe(false)
    // Nothing is held for a worker the owner cannot tell about.
    expect(holdForSoonerWorker([load('a', 0, 14), load('b', -1)], nobody)).toBe(false)
  })
})

describe('who fetches a whole file before a slot is free', () => {
  it('is the worker whose slot frees first, once that is within the horizon and it has room', () => {
    const soon = load('soon', 0, 4)
    expect(wholePrefetcher([load('late', 0, 70), soon], nobody, 10)).toBe(soon)
    // Further off than the horizon: the file keeps that slot instead (keepSlotFor).
    expect(wholePrefetcher([load('late', 0, 70), load('soon', 0, 12)], nobody, 10)).toBeNull()
    // No room for a prefetch: it already fetches another unit behind the one it converts.
    expect(wholePrefetcher([load('late', 0, 70), load('soon', -1, 4)], nobody, 10)).toBeNull()
    // A free slot takes the file now; a worker the owner cannot tell about is never invited early.
    expect(wholePrefetcher([load('free', 1), soon], nobody, 10)).toBeNull()
    expect(wholePrefetcher([load('unknown', 0)], nobody, 10)).toBeNull()
    // One the unit may not go to (it refused it, or is quarantined) is passed over.
    expect(wholePrefetcher([load('late', 0, 9), soon], id => id === 'soon', 10)?.id).toBe('late')
  })

  it('takes only the first of two files: the second keeps the next slot, as before', () => {
    const workers = [load('a', 0, 3), load('b', 0, 40)]
    const first = wholePrefetcher(workers, nobody, 10)
    expect(first?.id).toBe('a')
    countOffered(first as WorkerLoad, unit(0, 'pending', null, 120, 'whole'))
    expect(wholePrefetcher(workers, nobody, 10)).toBeNull()
  })

  it('reaches a heartbeat plus the lead ahead, in media seconds at the measured speed', () => {
    // x264 medium at 720p converts a media second in about 0.55 s on one core.
    expect(wholePrefetchHorizonSec(5, 0.55)).toBeCloseTo((5 + WHOLE_PREFETCH_LEAD_SEC) / 0.55)
    // A slow encoder: the same wall time is fewer media seconds.
    expect(wholePrefetchHorizonSec(5, 4)).toBeCloseTo(2)
    // A heartbeat of minutes does not stretch it into a queue.
    expect(wholePrefetchHorizonSec(600, 1)).toBeLessThanOrEqual(10 + WHOLE_PREFETCH_LEAD_SEC)
  })
})

describe('one look at the workers, as a list scheduler', () => {
  it('spreads the long pieces of a job over both workers while one converts its audio', () => {
    // A 60 s file on two one-slot workers: b converts the audio, a is free; pieces longest first.
    const workers = [load('a', 1), load('b', 0, 60 * AUDIO_COST_SHARE)]
    const pieces = [16, 16, 10, 8, 4].map((sec, i) => unit(i + 1, 'pending', null, sec))
    const given: Array<[number, string]> = []
    for (const u of pieces) {
      if (holdForSoonerWorker(workers, nobody)) continue
      const [first] = pickCandidates(workers, nobody, { self: 'a' })
      given.push([u.spec.durationSec, first])
      countOffered(workers.find(w => w.id === first) as WorkerLoad, u)
    }
    // The second long piece goes behind the audio, not behind the first long piece; then a holds
    // its prefetch and b, which frees first but may take no more, holds the rest back.
    expect(given).toEqual([[16, 'a'], [16, 'b'], [10, 'a']])
  })
  it('keeps the slot that frees first for an earlier whole file, and later pieces go to the other worker', () => {
    // The end of a batch (bench/batch): a frees in 2 s, b in 70 s; an earlier job's 120 s clip
    // waits whole for a free slot, and a later job's 18 s pieces are offered in the same look.
    const workers = [load('a', 0, 2), load('b', 0, 70)]
    keepSlotFor(workers, nobody, unit(0, 'pending', null, 120, 'whole'))
    const given: string[] = []
    for (const u of [18, 18, 18].map((sec, i) => unit(i, 'pending', null, sec))) {
      if (holdForSoonerWorker(workers, nobody)) continue
      const candidates = pickCandidates(workers, nobody, { self: 'a' })
      // a, whose slot is the clip's, is not even the spare: kept, the offer would be claimed the
      // moment a's slot frees, before the owner offers the clip.
      expect(candidates).toEqual(['b'])
      given.push(candidates[0] as string)
      countOffered(workers.find(w => w.id === candidates[0]) as WorkerLoad, u)
    }
    expect(given).toEqual(['b'])
    // Without the clip counted, the first piece went to a and took its slot first.
    expect(pickCandidates([load('a', 0, 2), load('b', 0, 70)], nobody, { self: 'x' })[0]).toBe('a')
    // With a slot free now there is nothing to keep: the clip is offered to it.
    const free = [load('a', 1), load('b', 0, 70)]
    keepSlotFor(free, nobody, unit(0, 'pending', null, 120, 'whole'))
    expect(free.map(w => w.slotsFree)).toEqual([1, 0])
  })
})
