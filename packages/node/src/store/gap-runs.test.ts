import { describe, expect, it } from 'vitest'
import { createGapRuns, toRuns } from './gap-runs.js'
import { seqKey } from './log-db.js'

const GAPS = 'gaps'

/** The records an add writes: puts as [first, through], deletes as first. */
function written (ops: Array<{ type: string, key: string, value?: unknown }>): { put: number[][], del: number[] } {
  return {
    put: ops.filter(o => o.type === 'put').map(o => [Number(o.key), (o.value as { through: number }).through]),
    del: ops.filter(o => o.type === 'del').map(o => Number(o.key))
  }
}

describe('runs of gap numbers', () => {
  it('cuts ascending numbers into runs of consecutive ones', () => {
    expect(toRuns([1, 2, 3, 5, 7, 8])).toEqual([[1, 3], [5, 5], [7, 8]])
    expect(toRuns([])).toEqual([])
  })

  it('joins a new run with the held runs it touches on either side, rewriting the first record', () => {
    const runs = createGapRuns()
    runs.reset([[1, 3], [7, 9], [20, 20]])
    const add = runs.add(GAPS, [4, 5, 6, 12], 1)
    expect(written(add.ops)).toEqual({ put: [[1, 9], [12, 12]], del: [7] })
    expect(add.ops.every(o => o.sublevel === GAPS)).toBe(true)
    // Nothing changes in memory until the write commits.
    expect(runs.covers(5)).toBe(false)
    add.commit()
    expect([5, 9, 10, 12, 20, 21].map(n => runs.covers(n))).toEqual([true, true, false, true, true, false])
    expect(runs.size).toBe(3)
    expect(written(runs.add(GAPS, [10, 11], 2).ops)).toEqual({ put: [[1, 12]], del: [12] })
  })

  it('leaves out numbers a run holds already, so a run is never replaced by a shorter one', () => {
    const runs = createGapRuns()
    runs.reset([[5, 10]])
    expect(written(runs.add(GAPS, [5, 6], 1).ops)).toEqual({ put: [], del: [] })
    expect(written(runs.add(GAPS, [5, 11], 1).ops)).toEqual({ put: [[5, 11]], del: [] })
    expect(runs.add(GAPS, [3], 1).ops).toEqual([
      { type: 'put', sublevel: GAPS, key: seqKey(3), value: { why: 'compacted', jobId: null, at: 1, through: 3 } }
    ])
  })
})
