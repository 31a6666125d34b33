import { describe, expect, it } from 'vitest'
import { ENDED_STATE_EVERY_MAX_MS, JOB_STATE_EVERY_MS, nextStateWait } from './handoff.js'

describe('how often a new owner repeats a handed-off job\'s state', () => {
  it('every few seconds while the job runs; ever less often once it ended, down to a few minutes', () => {
    expect(nextStateWait(JOB_STATE_EVERY_MS, false)).toBe(JOB_STATE_EVERY_MS)
    const waits: number[] = []
    let wait = JOB_STATE_EVERY_MS
    for (let i = 0; i < 12; i++) waits.push(wait = nextStateWait(wait, true))
    expect(waits.slice(0, 3)).toEqual([2, 4, 8].map(n => n * JOB_STATE_EVERY_MS))
    expect(waits.at(-1)).toBe(ENDED_STATE_EVERY_MAX_MS)
    // A day of a failed job nobody acknowledges: a few hundred reports, not 17,280.
    let sent = 0
    wait = JOB_STATE_EVERY_MS
    for (let t = 0; t < 86_400_000; t += wait) { sent++; wait = nextStateWait(wait, true) }
    expect(sent).toBeLessThan(300)
    // A job run again after it ended is reported as often as a running one.
    expect(nextStateWait(ENDED_STATE_EVERY_MAX_MS, false)).toBe(JOB_STATE_EVERY_MS)
  })
})
