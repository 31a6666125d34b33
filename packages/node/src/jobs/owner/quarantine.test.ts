import { describe, expect, it } from 'vitest'
import { createQuarantine, QUARANTINE_AFTER_FAILURES, QUARANTINE_WINDOW_MS } from './quarantine.js'

describe('quarantine', () => {
  it('quarantines after repeated failures within the window, then forgives', () => {
    let now = 0
    const q = createQuarantine({ durationMs: 1000, clock: () => now })
    for (let i = 1; i < QUARANTINE_AFTER_FAILURES; i++) expect(q.recordFailure('p')).toBe(false)
    expect(q.isQuarantined('p')).toBe(false)
    expect(q.recordFailure('p')).toBe(true)
    expect(q.isQuarantined('p')).toBe(true)
    expect(q.isQuarantined('other')).toBe(false)
    now += 1001
    expect(q.isQuarantined('p')).toBe(false)
  })

  it('does not count failures older than the window', () => {
    let now = 0
    const q = createQuarantine({ durationMs: 1000, clock: () => now })
    for (let i = 0; i < QUARANTINE_AFTER_FAILURES - 1; i++) q.recordFailure('p')
    now += QUARANTINE_WINDOW_MS + 1
    expect(q.recordFailure('p')).toBe(false)
  })

  it('takes back a failure that was not the peer\'s, and lifts the quarantine it began when told to', () => {
    const q = createQuarantine({ durationMs: 1000, clock: () => 0 })
    for (let i = 1; i < QUARANTINE_AFTER_FAILURES; i++) q.recordFailure('p')
    q.forgive('p', false)
    expect(q.recordFailure('p')).toBe(false)
    expect(q.recordFailure('p')).toBe(true)
    q.forgive('p', false)
    expect(q.isQuarantined('p')).toBe(true)
    q.forgive('p', true)
    expect(q.isQuarantined('p')).toBe(false)
  })
})
