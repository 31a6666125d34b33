import { STATS_DAYS } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import { summarize } from '../store/job-summary.js'
import type { JobRecord } from '../store/records.js'
import type { JobView } from '../store/reduce.js'
import { computeStats, localDay } from './stats.js'

/** A job's view with only what the statistics read. */
function view (state: JobRecord['state'], endedAt: number, sourceSize: number, outputSize: number | null): JobView {
  return { job: { id: `job-${endedAt}`, state, sourceSize, outputSize, updatedAt: endedAt } as JobRecord, units: [] }
}

/** Noon local time, `daysAgo` calendar days before 10 December 2026. */
const at = (daysAgo: number, hour = 12): number => new Date(2026, 11, 10 - daysAgo, hour).getTime()

describe('statistics per day', () => {
  it('gives the last 30 local days, oldest first, with the jobs converted and bytes saved each day', () => {
    const views = [
      view('done', at(0, 1), 1000, 400),
      view('done', at(0, 23), 500, 300),
      view('done', at(3), 800, null), // from before sizes were logged: converted, nothing saved
      view('skipped', at(0), 900, null),
      view('failed', at(1), 700, null),
      view('done', at(STATS_DAYS), 5000, 1000) // one day too old for the chart, still in the totals
    ]
    const stats = computeStats(views, at(0, 15), () => null)
    expect(stats.byDay).toHaveLength(STATS_DAYS)
    expect(stats.byDay[0]?.day).toBe(localDay(at(STATS_DAYS - 1)))
    expect(stats.byDay.at(-1)).toEqual({ day: '2026-12-10', converted: 2, bytesSaved: 800 })
    expect(stats.byDay.find(d => d.day === '2026-12-07')).toEqual({ day: '2026-12-07', converted: 1, bytesSaved: 0 })
    expect(stats.byDay.filter(d => d.converted > 0).map(d => d.day)).toEqual(['2026-12-07', '2026-12-10'])
    expect(new Set(stats.byDay.map(d => d.day)).size).toBe(STATS_DAYS)
    expect(stats.converted).toBe(4)
    expect(stats.bytesSaved).toBe(600 + 200 + 4000)
  })

  it('steps by calendar day across the end of a month and a year', () => {
    const stats = computeStats([], new Date(2027, 0, 2, 9).getTime(), () => null)
    expect(stats.byDay.slice(-4).map(d => d.day)).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02'])
  })
})

describe('statistics per node', () => {
  it('counts a done job whose units were let go (job:compacted) as it counted them before', () => {
    const tried = (worker: string, leasedAt: number, endedAt: number) => ({
      worker,
      state: 'verified',
      tries: [
        { worker: 'gone', attempt: 1, leasedAt: 0, convertingAt: null, endedAt: 5, outcome: 'released' },
        { worker, attempt: 2, leasedAt, convertingAt: null, endedAt, outcome: 'verified' }
      ]
    })
    const full = view('done', at(2), 1000, 400)
    full.units = [tried('a', 100, 1600), tried('b', 100, 2100), tried('a', 2000, 4000)] as unknown as JobView['units']
    const compacted: JobView = { job: { ...full.job, compacted: summarize(full) }, units: [] }
    const names = (id: string): string => `node ${id}`
    const before = computeStats([full], at(0), names)
    expect(before.byNode).toEqual([
      { id: 'a', name: 'node a', units: 2, seconds: 3.5 },
      { id: 'b', name: 'node b', units: 1, seconds: 2 }
    ])
    expect(computeStats([compacted], at(0), names)).toEqual(before)
  })
})
