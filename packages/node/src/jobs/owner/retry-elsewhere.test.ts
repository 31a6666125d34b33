import { describe, expect, it } from 'vitest'
import { keptFrom, RETRY_ELSEWHERE_MS } from './retry-elsewhere.js'

const workers = [{ id: 'a', slotsTotal: 1 }, { id: 'b', slotsTotal: 2 }, { id: 'submitter', slotsTotal: 0 }]
const none = (): boolean => false

describe('a unit whose try failed', () => {
  it('is kept from the worker that failed it while another could take it', () => {
    expect(keptFrom({ worker: 'a', at: 1000 }, workers, none, 1000)).toBe('a')
    expect(keptFrom(null, workers, none, 1000)).toBeNull()
  })

  it('goes back to that worker when no other can take it: none with slots, or all excluded, or the time is up', () => {
    expect(keptFrom({ worker: 'a', at: 0 }, workers, peer => peer === 'b', 1)).toBeNull()
    expect(keptFrom({ worker: 'b', at: 0 }, workers.filter(w => w.id !== 'a'), none, 1)).toBeNull()
    expect(keptFrom({ worker: 'a', at: 0 }, workers, none, RETRY_ELSEWHERE_MS)).toBeNull()
  })
})
