import { describe, expect, it } from 'vitest'
import { JOB_STEPS, KICK_EVENTS } from './job-steps.js'

describe('the order of a job\'s steps', () => {
  it('is declared once, and the events that wake the owner are those its steps name', () => {
    expect(JOB_STEPS.map(s => s.step)).toEqual([
      'hold', 'start plan', 'plan on', 'assemble', 'expire', 'give up', 'finish', 'offer'
    ])
    expect([...KICK_EVENTS].sort()).toEqual([
      'job:assembling', 'job:done', 'job:failed', 'job:planned', 'job:retried', 'job:skipped', 'job:submitted',
      'job:units-planned', 'node:disk-ok', 'unit:released', 'unit:verified'
    ])
  })

  it('holds a job for want of disk before anything else is done to it, in every state the owner works on', () => {
    const hold = JOB_STEPS[0]
    expect(hold.step).toBe('hold')
    for (const s of JOB_STEPS) for (const state of s.states) expect(hold.states).toContain(state)
  })
})
