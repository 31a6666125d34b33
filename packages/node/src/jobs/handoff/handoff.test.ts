import { describe, expect, it } from 'vitest'
import { ErrorCodes, JobStateSchema, MAX_WIRE_MESSAGE, PROTOCOL_VERSION } from '@ffmesh/protocol'
import { jobRecord, OWNER_PEER, unitRecord } from '../../../../../test/fixtures/job-log.js'
import { createOwnerState } from '../owner/owner-state.js'
import { toJobStatus } from '../owner/status.js'
import { ENDED_STATE_EVERY_MAX_MS, JOB_STATE_EVERY_MS, jobStateMessage, nextStateWait } from './handoff.js'

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

describe('what a new owner tells the submitter', () => {
  it('a failure whose reason is longer than a message takes goes out cut, not never', () => {
    const id = '01JD0000000000000000000000'
    // What give-up logs: the unit's try, its worker and ffmpeg's stderr tail, over 500 characters.
    const reason = `unit 3 failed 3 times; last reason: CONVERT_FAILED from ${OWNER_PEER}: ${'x'.repeat(560)}`
    const job = jobRecord(id, {
      state: 'failed',
      origin: '12D3KooWRBy97UB99e3J6hiPesPDbGk8TFXbsbdfDkpNvVUpBQFY',
      error: { code: ErrorCodes.ATTEMPTS_EXHAUSTED, message: reason },
      unitCount: 2
    })
    const status = toJobStatus({ job, units: [unitRecord(id, 0), unitRecord(id, 1)] }, createOwnerState(), 1)
    const message = { ...jobStateMessage(job, status, null), v: PROTOCOL_VERSION, ts: 1 }
    const parsed = JobStateSchema.safeParse(message)
    expect(parsed.error?.issues).toBeUndefined()
    expect(message.error?.message).toHaveLength(MAX_WIRE_MESSAGE)
    expect(message.error?.message.startsWith('unit 3 failed 3 times; last reason: CONVERT_FAILED')).toBe(true)
  })
})
