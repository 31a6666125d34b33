import type { NodeReport } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import { createPeerCache } from './peer-cache.js'

const report = (paused: boolean): NodeReport =>
  ({ paused, draining: false, schedule: null, converting: [] }) as unknown as NodeReport

describe('the peer cache of node states', () => {
  it('keeps the answer to the latest question, whichever arrives last', () => {
    const cache = createPeerCache()
    // A listing asked at 100 answers after a pause sent at 200 was answered: the pause stays.
    cache.putNode('b', report(true), 200)
    cache.putNode('b', report(false), 100)
    expect(cache.node('b')?.paused).toBe(true)
    cache.putNode('b', report(false), 300)
    expect(cache.node('b')?.paused).toBe(false)
  })
})
