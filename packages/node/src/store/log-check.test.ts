import { describe, expect, it } from 'vitest'
import { jobRecord, unitRecord } from '../../../../test/fixtures/job-log.js'
import { checkLog, isIntact, type JobIndexSummary, type LogScan } from './log-check.js'
import type { JobView } from './reduce.js'

const whole: JobIndexSummary = { top: 3, missing: [], lostSeqs: [], lastSeq: 0 }

/** A job of two units (verified when it is done) whose three events are records `seqs`. */
function running (id: string, seqs: [number, number, number], fields: Partial<JobView['job']> = {}): JobView {
  const done = fields.state === 'done'
  const units = [unitRecord(id, 0), unitRecord(id, 1)].map(u =>
    done
      ? { ...u, state: 'verified' as const, result: { hash: 'c'.repeat(128), size: 1, frames: 144, durationSec: 6 } }
      : u
  )
  return { job: jobRecord(id, { state: 'running', unitCount: 2, eventCount: 3, lastSeq: seqs[2], ...fields }), units }
}

function scan (views: JobView[], init: Partial<LogScan> = {}): LogScan {
  const index = new Map(views.map(v => [v.job.id, { ...whole, lastSeq: v.job.lastSeq ?? 0 }]))
  return {
    lastSeq: 6,
    lostSeqs: [],
    index,
    views: new Map(views.map(v => [v.job.id, v])),
    strayUnits: [],
    markerSeq: 6,
    ...init
  }
}

describe('job log check', () => {
  it('finds a whole log whole', () => {
    expect(isIntact(checkLog(scan([running('A', [1, 2, 3]), running('B', [4, 5, 6])])))).toBe(true)
  })

  it('holds a job with a missing event of its own, and any unfinished job that could have changed after a lost record', () => {
    const a = running('A', [1, 3, 5])
    const b = running('B', [2, 4, 6])
    const done = running('C', [7, 8, 9], { state: 'done' })
    const index = new Map([
      ['A', { ...whole, missing: [2], lastSeq: 5 }],
      ['B', { ...whole, lastSeq: 6 }],
      ['C', { ...whole, lastSeq: 9 }]
    ])
    // Record 3 is A's second event (its index entry is gone with it); record 10 nobody can name.
    const damage = checkLog(scan([a, b, done], { index, lostSeqs: [3, 10], lastSeq: 11, markerSeq: 11 }))
    expect(damage.missingEvents).toEqual([{ jobId: 'A', jobSeq: 2 }])
    expect([...damage.attention.keys()].sort()).toEqual(['A', 'B'])
    expect(isIntact(damage)).toBe(false)
  })

  it('attributes a lost record whose index entry survived to its job, and holds only that job', () => {
    const a = running('A', [1, 2, 3])
    const b = running('B', [4, 5, 6])
    const index = new Map([['A', { ...whole, lostSeqs: [2], lastSeq: 3 }], ['B', { ...whole, lastSeq: 6 }]])
    const damage = checkLog(scan([a, b], { index, lostSeqs: [2] }))
    expect(damage.lostOwners.get(2)).toBe('A')
    expect([...damage.attention.keys()]).toEqual(['A'])
  })

  it('holds a plan with a hole, a done job with an unverified unit, and a record older than its events; names jobs whose own record is gone', () => {
    const holed = running('A', [1, 2, 3])
    delete (holed.units as unknown[])[1]
    const done = running('B', [4, 5, 6], { state: 'done' })
    done.units[1] = { ...(done.units[1] as JobView['units'][number]), state: 'pending', result: null }
    const stale = running('C', [7, 8, 9])
    const index = new Map([
      ['A', whole],
      ['B', whole],
      ['C', { ...whole, top: 5 }],
      ['GONE', whole]
    ])
    const damage = checkLog(scan([holed, done, stale], { index, strayUnits: [unitRecord('GONE', 0)] }))
    expect([...damage.attention.keys()].sort()).toEqual(['A', 'B', 'C'])
    expect(damage.eventCounts.get('C')).toBe(5)
    expect(damage.lostJobs).toEqual(['GONE'])
  })

  it('says a log that ends before the marker was cut short', () => {
    expect(checkLog(scan([running('A', [1, 2, 3])], { lastSeq: 3, markerSeq: 6, lostSeqs: [4, 5, 6] })).cutShort).toBe(
      true
    )
  })

  it('does not report again a loss already recorded on a held job', () => {
    const held = running('A', [1, 2, 3], { attention: 'earlier' })
    delete (held.units as unknown[])[1]
    expect(isIntact(checkLog(scan([held])))).toBe(true)
  })
})
