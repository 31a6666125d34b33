import { describe, expect, it } from 'vitest'
import { defaultSlots, MEMORY_PER_DEFAULT_SLOT } from './machine-defaults.js'

describe('worker.slots by default', () => {
  it('is one per CPU thread when memory allows', () => {
    expect(defaultSlots(2, 24 * 1024 ** 3)).toBe(2)
    expect(defaultSlots(16, 64 * 1024 ** 3)).toBe(16)
  })

  it('is held to the memory of a slot each on a machine with little memory', () => {
    expect(defaultSlots(8, 4 * 1024 ** 3)).toBe(2)
    expect(defaultSlots(4, 5 * MEMORY_PER_DEFAULT_SLOT - 1)).toBe(4)
  })

  it('is at least one', () => {
    expect(defaultSlots(1, 512 * 1024 ** 2)).toBe(1)
    expect(defaultSlots(4, 1024 ** 3)).toBe(1)
  })
})
