import { describe, expect, it } from 'vitest'
import { audioRunsBeside, createSlots, unitThreads } from './slots.js'

describe('conversion slots', () => {
  it('hands a freed slot to the oldest waiter, and a waiter whose signal aborts leaves the queue', async () => {
    const slots = createSlots(1)
    const release = await slots.acquire()
    expect(slots.free).toBe(0)
    const order: string[] = []
    const first = slots.acquire().then(r => { order.push('first'); return r })
    const abort = new AbortController()
    const gaveUp = slots.acquire(abort.signal)
    const last = slots.acquire().then(r => { order.push('last'); return r })
    abort.abort(new Error('cancelled'))
    await expect(gaveUp).rejects.toThrow('cancelled')
    release()
    release()
    const releaseFirst = await first
    expect(order).toEqual(['first'])
    expect(slots.free).toBe(0)
    releaseFirst()
    const releaseLast = await last
    expect(order).toEqual(['first', 'last'])
    expect(slots.free).toBe(0)
    releaseLast()
    expect(slots.free).toBe(1)
  })
})

describe('where an audio unit runs', () => {
  it('beside the slots while a CPU is left over or the encoder picks its threads', () => {
    expect(audioRunsBeside(1, 0, 2)).toBe(true)
    expect(audioRunsBeside(1, 0, 1)).toBe(true)
    expect(audioRunsBeside(1, 1, 2)).toBe(true)
    expect(audioRunsBeside(8, 1, 16)).toBe(true)
  })

  it('in a slot when fixed threads fill every CPU, as on a node pinned to one core', () => {
    expect(audioRunsBeside(1, 1, 1)).toBe(false)
    expect(audioRunsBeside(2, 2, 4)).toBe(false)
    expect(audioRunsBeside(4, 2, 4)).toBe(false)
  })
})

describe('the threads of a unit\'s ffmpeg', () => {
  it('takes worker.threads when set', () => {
    expect(unitThreads(3, 2, 8)).toBe(3)
  })

  it('shares the CPU threads among the slots at 0, at least one each', () => {
    expect(unitThreads(0, 2, 2)).toBe(1)
    expect(unitThreads(0, 4, 16)).toBe(4)
    expect(unitThreads(0, 3, 8)).toBe(2)
    expect(unitThreads(0, 8, 2)).toBe(1)
  })

  it('lets the encoder choose on a node of one slot, as plain ffmpeg does', () => {
    expect(unitThreads(0, 1, 8)).toBe(0)
  })
})
