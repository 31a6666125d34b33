import type { JobStatus, NodeInfo, PeerStatus } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import { baseName, formatAgo, formatBytes, formatDuration, formatPercent, shortId } from './format.js'
import { AWAY_AFTER_MS, meshFromPeers } from './mesh-model.js'
import { layoutTimeline } from './timeline.js'

const SELF = '12D3KooWSelfSelfSelfSelfSelfSelfSelfSelfSelfSelfSelf'
const PEER_B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
const PEER_C = '12D3KooWCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC'

function job (fields: Partial<JobStatus>): JobStatus {
  return { id: '01M8WK4J7811G05KK8KQ9QQJ3N', state: 'running', profile: 'h264', source: '/m/a.mkv', output: null, error: null, units: [], owner: SELF, createdAt: 1000, updatedAt: 1000, waiting: null, progress: 0, ...fields }
}

describe('what the page says', () => {
  it('formats bytes, durations, percentages, ages and names', () => {
    expect([formatBytes(0), formatBytes(1536), formatBytes(5 * 1024 ** 3), formatBytes(-1)]).toEqual(['0 B', '1.5 KB', '5.0 GB', '–'])
    expect([formatDuration(4200), formatDuration(65_000), formatDuration(7_800_000)]).toEqual(['4.2 s', '1 min 5 s', '2 h 10 min'])
    expect([formatPercent(0.456), formatPercent(2), formatPercent(-1)]).toEqual(['46%', '100%', '0%'])
    expect([formatAgo(0, 1000), formatAgo(0, 40_000), formatAgo(0, 300_000)]).toEqual(['just now', '40 s ago', '5 min ago'])
    expect([baseName('/srv/in/movie.mkv'), shortId(SELF), shortId('abc')]).toEqual(['movie.mkv', '…SelfSelf', 'abc'])
  })

  it('builds the mesh from this node and its peers when the node has no mesh routes', () => {
    const info: NodeInfo = { id: SELF, name: 'a', version: '1', dataDir: '/d', slots: 2, addresses: [], dashboard: null }
    const now = 100_000
    const peers: PeerStatus[] = [
      { id: PEER_C, name: 'c', slotsFree: 0, slotsTotal: 1, encoders: ['libx264'], diskFree: 5, lastSeen: now - AWAY_AFTER_MS - 1, version: '1', paused: false, draining: false, schedule: null, nextWindow: null },
      { id: PEER_B, name: 'b', slotsFree: 1, slotsTotal: 2, encoders: ['libx264'], diskFree: 9, lastSeen: now - 1000, version: '1', paused: false, draining: false, schedule: null, nextWindow: null }
    ]
    const units = [
      { index: 0, kind: 'segment' as const, state: 'converting' as const, worker: SELF, attempts: 1, progress: 0.5, durationSec: 2 },
      { index: 1, kind: 'segment' as const, state: 'leased' as const, worker: PEER_B, attempts: 1, progress: 0, durationSec: 2 },
      { index: 2, kind: 'segment' as const, state: 'verified' as const, worker: PEER_B, attempts: 1, progress: 1, durationSec: 2 }
    ]
    const nodes = meshFromPeers(info, peers, [job({ units })], now)
    expect(nodes.map(n => [n.name, n.self, n.online, n.slotsFree, n.converting.map(c => [c.index, c.phase])])).toEqual([
      ['a', true, true, 1, [[0, 'converting']]],
      ['b', false, true, 1, [[1, 'fetching']]],
      ['c', false, false, 0, []]
    ])
  })

  it('lays out the unit timeline: a row per node, a bar per try, by fraction of the job\'s time', () => {
    expect(layoutTimeline(job({}), 5000)).toBeNull()
    const units = [
      { index: 0, kind: 'segment' as const, state: 'verified' as const, worker: SELF, attempts: 2, progress: 1, durationSec: 2, tries: [
        { worker: PEER_B, attempt: 1, leasedAt: 1000, convertingAt: 1500, endedAt: 2000, outcome: 'released' as const },
        { worker: SELF, attempt: 2, leasedAt: 2000, convertingAt: 2100, endedAt: 3000, outcome: 'verified' as const }
      ] },
      { index: 1, kind: 'audio' as const, state: 'converting' as const, worker: PEER_B, attempts: 1, progress: 0.3, durationSec: 2, tries: [
        { worker: PEER_B, attempt: 1, leasedAt: 1000, convertingAt: null, endedAt: null, outcome: null }
      ] }
    ]
    const t = layoutTimeline(job({ units }), 5000)
    expect(t).not.toBeNull()
    expect({ start: t?.start, end: t?.end }).toEqual({ start: 1000, end: 5000 })
    const rowB = t?.rows.find(r => r.worker === PEER_B)
    expect(rowB?.bars.map(b => [b.unit, b.x, b.width, b.outcome])).toEqual([[0, 0, 0.25, 'released'], [1, 0, 1, 'running']])
    const self = t?.rows.find(r => r.worker === SELF)?.bars[0]
    expect([self?.x, self?.width, self?.convertX, self?.outcome]).toEqual([0.25, 0.25, 0.275, 'verified'])
  })
})
