import { describe, expect, it } from 'vitest'
import { idleIfWhole, slotLoads } from './slot-forecast.js'

describe('when the slots of the mesh run out of work', () => {
  it('places the units held first, then the waiting ones in order, each on the slot that frees first', () => {
    expect(slotLoads(2, { converting: [], waiting: [], planning: 0 })).toEqual([0, 0])
    expect(slotLoads(2, { converting: [30], waiting: [], planning: 0 })).toEqual([30, 0])
    // 10 goes to the free slot, 20 to it again (10 < 30), 5 to the slot of 30 (30 = 10 + 20, the first).
    expect(slotLoads(2, { converting: [30], waiting: [10, 20, 5], planning: 0 })).toEqual([35, 30])
    // More units held than slots (a prefetch): the longest ones hold the slots.
    expect(slotLoads(2, { converting: [5, 40, 20], waiting: [], planning: 0 })).toEqual([40, 25])
  })

  it('spreads a job still being planned over the slots that free first, as its segments would go', () => {
    expect(slotLoads(2, { converting: [30], waiting: [], planning: 20 })).toEqual([30, 20])
    expect(slotLoads(2, { converting: [30], waiting: [], planning: 50 })).toEqual([40, 40])
    expect(slotLoads(3, { converting: [], waiting: [], planning: 30 })).toEqual([10, 10, 10])
  })

  it('counts the slot-seconds the other slots wait while one converts a file whole', () => {
    // An idle mesh of two: the other slot waits the whole file.
    expect(idleIfWhole([0, 0], 60, 0)).toBe(60)
    // The other slot is busy longer than the file: nobody waits.
    expect(idleIfWhole([0, 90], 60, 0)).toBe(0)
    // The end of a batch: the file starts at 20 and ends at 80; the other slot is free at 50.
    expect(idleIfWhole([20, 50], 60, 0)).toBe(30)
    // Work behind the file fills the wait.
    expect(idleIfWhole([20, 50], 60, 25)).toBe(5)
    expect(idleIfWhole([0, 0, 0], 10, 0)).toBe(20)
  })
})
