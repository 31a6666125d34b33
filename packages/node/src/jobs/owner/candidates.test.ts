import { describe, expect, it } from 'vitest'
import { OFFER_CANDIDATES, pickCandidates } from './candidates.js'

const peer = (id: string, slotsFree: number, slotsTotal = 2) => ({ id, slotsFree, slotsTotal })

describe('offer candidates', () => {
  it('invites the freest workers, a bounded number, never excluded or submit-only ones', () => {
    const workers = [
      peer('a', 0),
      peer('b', 2),
      peer('c', 1),
      peer('d', 2),
      peer('e', 2),
      peer('laptop', 0, 0),
      peer('bad', 5)
    ]
    const picked = pickCandidates(workers, p => p === 'bad', { self: 'owner' })
    expect(picked).toHaveLength(OFFER_CANDIDATES)
    expect(picked.every(p => ['b', 'd', 'e'].includes(p))).toBe(true)
  })

  it('falls back to workers that can prefetch when none is free, and to everyone when none is known', () => {
    expect(pickCandidates([peer('a', 0), peer('b', 0)], () => false, { self: 'owner' }).sort()).toEqual(['a', 'b'])
    expect(pickCandidates([], () => false, { self: 'owner' })).toEqual([])
  })

  it('puts a peer before the owner itself when they tie, never before a freer owner', () => {
    for (let i = 0; i < 20; i++) {
      expect(pickCandidates([peer('owner', 1), peer('a', 1)], () => false, { self: 'owner' })).toEqual(['a', 'owner'])
    }
    expect(pickCandidates([peer('owner', 2), peer('a', 1)], () => false, { self: 'owner' })[0]).toBe('owner')
  })

  it('puts the owner itself first when it ties on a whole unit, among any number of peers', () => {
    const whole = { self: 'owner', whole: true }
    for (let i = 0; i < 20; i++) {
      expect(pickCandidates([peer('a', 1), peer('owner', 1)], () => false, whole)).toEqual(['owner', 'a'])
      expect(pickCandidates([peer('a', 1), peer('b', 1), peer('owner', 1)], () => false, whole)[0]).toBe('owner')
    }
    // Never before a freer peer.
    expect(pickCandidates([peer('owner', 1), peer('a', 2)], () => false, whole)[0]).toBe('a')
  })

  it('spreads equal workers at random', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 50; i++) {
      seen.add(pickCandidates([peer('a', 1), peer('b', 1), peer('c', 1), peer('d', 1)], () => false, { self: 'owner' })[0])
    }
    expect(seen.size).toBeGreaterThan(1)
  })
})
