import path from 'node:path'
import Table from 'cli-table3'
import {
  humanBytes,
  type JobState,
  type JobStatus,
  type JobSummary,
  type LibraryStatus,
  type MeshJobCounts,
  type MeshJobStatus,
  type NodeControlState,
  type PeerStatus,
  type Profile,
  type ScanPlanEntry,
  type StatsReport,
  type StatsSpan,
  type WatchStatus
} from '@ffmesh/protocol'

/** Plain tables: no colours, so output piped to a file or grep stays clean. */
function table (head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] } })
}


export function ago (time: number, now: number = Date.now()): string {
  const s = Math.max(0, Math.round((now - time) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.round(s / 60)}m ago`
  return `${Math.round(s / 3600)}h ago`
}

export const shortPeer = (id: string | null): string => id == null ? '-' : id.length > 12 ? `…${id.slice(-8)}` : id
const percent = (p: number): string => `${Math.round(p * 100)}%`
/** A done job lets its units go after jobs.doneUnitsRetentionSeconds: none are left to count. */
const unitsLetGo = (j: JobStatus): boolean => j.state === 'done' && j.units.length === 0
const UNITS_LET_GO = 'its units let go after jobs.doneUnitsRetentionSeconds'
const verified = (j: JobStatus): string =>
  unitsLetGo(j) ? '-' : `${j.units.filter(u => u.state === 'verified').length}/${j.units.length}`

export function jobsTable (jobs: JobStatus[]): string {
  const t = table(['job', 'state', 'profile', 'progress', 'units', 'source', 'output / reason'])
  for (const j of jobs) {
    const why = j.error ?? j.reason ?? null
    const detail = why != null ? `${why.code}: ${why.message}` : j.output ?? j.waiting ?? ''
    t.push([j.id, j.state, j.profile, percent(j.progress), verified(j), path.basename(j.source), detail])
  }
  return t.toString()
}

/** The owner as people know it: its name, and whether this is only its last state heard. */
const ownerLabel = (j: MeshJobStatus): string =>
  `${j.ownerName !== '' ? j.ownerName : shortPeer(j.owner)}${j.ownerAway ? ` (away since ${ago(j.heardAt)})` : ''}`

export function meshJobsTable (jobs: MeshJobStatus[]): string {
  const t = table(['job', 'owner', 'state', 'profile', 'progress', 'units', 'source', 'output / reason'])
  for (const j of jobs) {
    const detail = j.error != null ? `${j.error.code}: ${j.error.message}` : j.output ?? j.waiting ?? ''
    t.push([j.id, ownerLabel(j), j.state, j.profile, percent(j.progress), verified(j), path.basename(j.source), detail])
  }
  return t.toString()
}

export function jobDetail (j: JobStatus | MeshJobStatus): string {
  const lines = [
    `job      ${j.id}`,
    ...'ownerName' in j ? [`owner    ${ownerLabel(j)} ${j.owner}`] : [],
    `state    ${j.state}${j.waiting != null ? ` (${j.waiting})` : ''}`,
    `profile  ${j.profile}`,
    `source   ${j.source}`,
    `output   ${j.output ?? '-'}`,
    `progress ${percent(j.progress)}, ${unitsLetGo(j) ? UNITS_LET_GO : `${verified(j)} units verified`}`
  ]
  if (j.error != null) lines.push(`error    ${j.error.code}: ${j.error.message}`)
  if (j.attention != null) lines.push(`attention ${j.attention}`)
  if (j.reason != null) lines.push(`skipped  ${j.reason.code}: ${j.reason.message}`)
  const t = table(['unit', 'kind', 'state', 'worker', 'attempts', 'progress'])
  for (const u of j.units) t.push([u.index, u.kind, u.state, shortPeer(u.worker), u.attempts, percent(u.progress)])
  return `${lines.join('\n')}\n${t.toString()}`
}

const clockTime = (t: number): string =>
  new Date(t).toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' })

/** Whether a worker takes units, for people: `paused (draining)`, `outside its schedule until Mon 22:00`. */
export function workerState (
  s: Pick<NodeControlState, 'paused' | 'draining' | 'schedule'> & { pausedBy?: NodeControlState['pausedBy'] }
): string {
  const byPerson =
    s.pausedBy === 'user' || s.pausedBy === 'peer' || (s.pausedBy == null && s.paused && s.schedule?.open !== false)
  if (s.paused && byPerson) {
    return `paused${s.pausedBy === 'peer' ? ' from another node' : ''}${s.draining ? ' (draining: running units finish)' : ''}`
  }
  if (s.paused) {
    return `outside its schedule${s.schedule?.next != null ? ` until ${clockTime(s.schedule.next)}` : ''}${s.draining ? ' (draining)' : ''}`
  }
  return s.schedule?.next != null ? `working (its window closes ${clockTime(s.schedule.next)})` : 'working'
}

export function peersTable (peers: PeerStatus[]): string {
  const t = table(['peer', 'name', 'free slots', 'encoders', 'free disk', 'last seen', 'worker'])
  for (const p of peers) {
    t.push([
      p.id,
      p.name,
      p.slotsFree,
      p.encoders.join(' '),
      p.diskFull === true ? 'full' : humanBytes(p.diskFree),
      ago(p.lastSeen),
      workerState(p)
    ])
  }
  return t.toString()
}

export function profilesTable (profiles: Profile[]): string {
  const t = table(['profile', 'kind', 'container', 'description'])
  for (const p of profiles) t.push([p.name, p.kind, p.container, p.description ?? ''])
  return t.toString()
}

export function watchesTable (watches: WatchStatus[]): string {
  const t = table(['path', 'profile', 'output', 'state', 'submitted', 'skipped'])
  for (const w of watches) {
    t.push([
      w.path,
      w.profile,
      w.output,
      w.reason != null ? `${w.state}: ${w.reason}` : w.state,
      w.submitted.length,
      w.skipped.length
    ])
  }
  return t.toString()
}

export function librariesTable (libraries: LibraryStatus[]): string {
  const t = table(['library', 'profiles', 'output', 'mode', 'state', 'last scan'])
  for (const l of libraries) {
    const last =
      l.lastScan != null
        ? `${ago(l.lastScan.at)}: ${l.lastScan.found} found, ${l.lastScan.submitted} queued, ${l.lastScan.skipped} skipped, ${l.lastScan.failed} failed`
        : '-'
    t.push([
      l.path,
      Object.entries(l.profiles)
        .map(([k, p]) => `${k}=${p}`)
        .join(' '),
      l.replace ? '(in place)' : (l.output ?? ''),
      l.poll ? 'poll' : 'notify',
      l.reason != null ? `${l.state}: ${l.reason}` : l.state,
      last
    ])
  }
  return t.toString()
}

export function scanPlanTable (plan: ScanPlanEntry[]): string {
  const t = table(['file', 'action', 'profile', 'output / reason'])
  for (const e of plan) {
    t.push([
      e.path,
      e.action,
      e.profile ?? '-',
      e.reason != null ? `${e.reason.code}: ${e.reason.message}` : (e.output ?? '')
    ])
  }
  return t.toString()
}

function spanRows (name: string, s: StatsSpan): string[] {
  const reasons = Object.entries(s.skippedByReason).map(([code, n]) => `${code} ${n}`).join(', ')
  return [
    name,
    String(s.converted),
    `${s.skipped}${reasons !== '' ? ` (${reasons})` : ''}`,
    String(s.failed),
    humanBytes(s.bytesIn),
    humanBytes(s.bytesOut),
    humanBytes(s.bytesSaved)
  ]
}

export function statsTable (stats: StatsReport): string {
  const t = table(['span', 'converted', 'skipped', 'failed', 'bytes in', 'bytes out', 'saved'])
  t.push(spanRows('total', stats), spanRows('last 7 days', stats.last7Days))
  const nodes = table(['node', 'name', 'units', 'conversion time (total)', 'last 7 days'])
  for (const n of stats.byNode) {
    const week = stats.last7Days.byNode.find(w => w.id === n.id)
    nodes.push([
      shortPeer(n.id),
      n.name ?? '-',
      n.units,
      `${n.seconds.toFixed(1)} s`,
      `${(week?.seconds ?? 0).toFixed(1)} s`
    ])
  }
  return stats.byNode.length > 0 ? `${t.toString()}
${nodes.toString()}` : t.toString()
}

/** The mesh's counts over a listing of `shown` jobs (in `state`), and the nodes left out of them. */
export function meshSummary (counts: MeshJobCounts, shown: number, state?: JobState): string {
  const lines = [counts.total === 0 ? 'no jobs in the mesh' : `${summaryLine(counts)} in the mesh`]
  if (counts.uncounted.length > 0) {
    lines.push(`not counted: ${counts.uncounted.join(', ')} (did not answer, or runs an older version)`)
  }
  const listed = state == null ? counts.total : counts.byState[state]
  if (listed > shown) {
    lines.push(`newest ${shown} of ${listed}${state == null ? '' : ` ${state}`} shown; --limit N shows more, --state S one state`)
  }
  return lines.join('\n')
}

/** `ffmesh status` of many jobs: counts by state, then the most recent ones. */
export function summaryLine (summary: JobSummary): string {
  const parts = Object.entries(summary.byState).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`)
  return `${summary.total} jobs${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`
}
