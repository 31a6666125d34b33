import type { JobStatus } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import { baseName, formatAgo, formatBytes, formatDuration, formatPercent, shortId } from './format.js'
import { pausedByPerson, steerPath, workBadges, type MeshNodeView } from './mesh-model.js'
import { layoutDays } from './stats-chart.js'
import { layoutTimeline } from './timeline.js'

const SELF = '12D3KooWSelfSelfSelfSelfSelfSelfSelfSelfSelfSelfSelf'
const PEER_B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'

function job (fields: Partial<JobStatus>): JobStatus {
  return {
    id: '01M8WK4J7811G05KK8KQ9QQJ3N',
    state: 'running',
    profile: 'h264',
    source: '/m/a.mkv',
    output: null,
    error: null,
    units: [],
    owner: SELF,
    createdAt: 1000,
    updatedAt: 1000,
    waiting: null,
    progress: 0,
    ...fields
  }
}

describe('what the page says', () => {
  it('formats bytes, durations, percentages, ages and names', () => {
    expect([formatBytes(0), formatBytes(1536), formatBytes(5 * 1024 ** 3), formatBytes(-1)]).toEqual([
      '0 B',
      '1.5 KB',
      '5.0 GB',
      '–'
    ])
    expect([formatDuration(4200), formatDuration(65_000), formatDuration(7_800_000)]).toEqual([
      '4.2 s',
      '1 min 5 s',
      '2 h 10 min'
    ])
    expect([formatPercent(0.456), formatPercent(2), formatPercent(-1)]).toEqual(['46%', '100%', '0%'])
    expect([formatAgo(0, 1000), formatAgo(0, 40_000), formatAgo(0, 300_000)]).toEqual([
      'just now',
      '40 s ago',
      '5 min ago'
    ])
    expect([baseName('/srv/in/movie.mkv'), shortId(SELF), shortId('abc')]).toEqual(['movie.mkv', '…SelfSelf', 'abc'])
  })

  it('says why a node takes no work and until when, and which route steers it', () => {
    const now = new Date(2026, 11, 10, 14, 30).getTime()
    const node = (fields: Partial<MeshNodeView>): MeshNodeView => ({
      id: PEER_B,
      name: 'b',
      self: false,
      online: true,
      lastSeen: now,
      version: '1',
      slotsTotal: 2,
      slotsFree: 2,
      encoders: [],
      diskFree: 9,
      diskFull: false,
      paused: false,
      draining: false,
      schedule: null,
      converting: [],
      ...fields
    })
    const badges = (n: MeshNodeView): string[] => workBadges(n, now).map(b => `${b.kind}: ${b.text}`)
    expect(badges(node({}))).toEqual([])
    expect(badges(node({ paused: true }))).toEqual(['paused: paused'])
    expect(badges(node({ paused: true, draining: true }))).toEqual(['draining: draining'])
    // Outside its window the node is paused by its schedule, not by a person: Resume is not the fix.
    const closed = node({ paused: true, schedule: { open: false, next: new Date(2026, 11, 10, 22, 0).getTime() } })
    expect(badges(closed)).toEqual(['schedule: outside its schedule until 22:00'])
    expect(pausedByPerson(closed)).toBe(false)
    expect(
      badges(node({ schedule: { open: true, next: new Date(2026, 11, 14, 6, 5).getTime() }, diskFull: true }))
    ).toEqual(['schedule: in its schedule until Mon 06:05', 'disk-full: disk full'])
    expect(badges(node({ schedule: { open: false, next: null } }))).toEqual(['schedule: outside its schedule'])
    expect([steerPath(node({ self: true }), 'pause'), steerPath(node({ self: true }), 'resume')]).toEqual([
      '/v1/node/pause',
      '/v1/node/resume'
    ])
    expect([steerPath(node({}), 'pause'), steerPath(node({}), 'resume')]).toEqual([
      `/v1/mesh/nodes/${PEER_B}/pause`,
      `/v1/mesh/nodes/${PEER_B}/resume`
    ])
  })

  it('lays out the bytes-saved chart: a slot per day, bars scaled to the best day', () => {
    const days = [
      { day: '2026-12-08', converted: 0, bytesSaved: 0 },
      { day: '2026-12-09', converted: 2, bytesSaved: 500 },
      { day: '2026-12-10', converted: 1, bytesSaved: 1000 },
      { day: '2026-12-11', converted: 1, bytesSaved: -200 }
    ]
    const { bars, max } = layoutDays(days, 400, 100)
    expect(max).toBe(1000)
    expect(bars.map(b => [b.day, b.x, b.width, b.y, b.height])).toEqual([
      ['2026-12-08', 10, 80, 100, 0],
      ['2026-12-09', 110, 80, 50, 50],
      ['2026-12-10', 210, 80, 0, 100],
      ['2026-12-11', 310, 80, 100, 0]
    ])
    expect(
      layoutDays(
        [
          { day: '2026-12-10', converted: 1, bytesSaved: 1 },
          { day: '2026-12-11', converted: 1, bytesSaved: 1e9 }
        ],
        100,
        100
      ).bars[0]?.height
    ).toBe(1)
    expect(layoutDays([], 100, 100)).toEqual({ bars: [], max: 0 })
  })

  it('lays out the unit timeline: a row per node, a bar per try, by fraction of the job\'s time', () => {
    expect(layoutTimeline(job({}), 5000)).toBeNull()
    const units = [
      {
        index: 0,
        kind: 'segment' as const,
        state: 'verified' as const,
        worker: SELF,
        attempts: 2,
        progress: 1,
        durationSec: 2,
        tries: [
          {
            worker: PEER_B,
            attempt: 1,
            leasedAt: 1000,
            convertingAt: 1500,
            endedAt: 2000,
            outcome: 'released' as const
          },
          { worker: SELF, attempt: 2, leasedAt: 2000, convertingAt: 2100, endedAt: 3000, outcome: 'verified' as const }
        ]
      },
      {
        index: 1,
        kind: 'audio' as const,
        state: 'converting' as const,
        worker: PEER_B,
        attempts: 1,
        progress: 0.3,
        durationSec: 2,
        tries: [{ worker: PEER_B, attempt: 1, leasedAt: 1000, convertingAt: null, endedAt: null, outcome: null }]
      }
    ]
    const t = layoutTimeline(job({ units }), 5000)
    expect(t).not.toBeNull()
    expect({ start: t?.start, end: t?.end }).toEqual({ start: 1000, end: 5000 })
    const rowB = t?.rows.find(r => r.worker === PEER_B)
    expect(rowB?.bars.map(b => [b.unit, b.x, b.width, b.outcome])).toEqual([
      [0, 0, 0.25, 'released'],
      [1, 0, 1, 'running']
    ])
    const self = t?.rows.find(r => r.worker === SELF)?.bars[0]
    expect([self?.x, self?.width, self?.convertX, self?.outcome]).toEqual([0.25, 0.25, 0.275, 'verified'])
  })
})
