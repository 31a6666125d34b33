import { describe, expect, it } from 'vitest'
import { HEAP_GROWING_PERCENT, tuneNodeHeap } from './heap.js'

describe('tuneNodeHeap', () => {
  it('sets the growing factor for a node process', () => {
    const set: string[] = []
    expect(tuneNodeHeap({ execArgv: ['--enable-source-maps'], setFlags: f => set.push(f) })).toBe(true)
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`])
  })

  it('leaves a factor given on the command line alone, in either spelling', () => {
    for (const arg of ['--heap-growing-percent=50', '--heap_growing_percent=50']) {
      const set: string[] = []
      expect(tuneNodeHeap({ execArgv: [arg], setFlags: f => set.push(f) })).toBe(false)
      expect(set).toEqual([])
    }
  })
})
