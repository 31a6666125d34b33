import path from 'node:path'
import Table from 'cli-table3'
import { humanBytes, type JobStatus, type PeerStatus, type Profile, type WatchStatus } from '@ffmesh/protocol'

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
const verified = (j: JobStatus): string => `${j.units.filter(u => u.state === 'verified').length}/${j.units.length}`

export function jobsTable (jobs: JobStatus[]): string {
  const t = table(['job', 'state', 'profile', 'progress', 'units', 'source', 'output / reason'])
  for (const j of jobs) {
    const detail = j.error != null ? `${j.error.code}: ${j.error.message}` : j.output ?? j.waiting ?? ''
    t.push([j.id, j.state, j.profile, percent(j.progress), verified(j), path.basename(j.source), detail])
  }
  return t.toString()
}

export function jobDetail (j: JobStatus): string {
  const lines = [
    `job      ${j.id}`,
    `state    ${j.state}${j.waiting != null ? ` (${j.waiting})` : ''}`,
    `profile  ${j.profile}`,
    `source   ${j.source}`,
    `output   ${j.output ?? '-'}`,
    `progress ${percent(j.progress)}, ${verified(j)} units verified`
  ]
  if (j.error != null) lines.push(`error    ${j.error.code}: ${j.error.message}`)
  if (j.attention != null) lines.push(`attention ${j.attention}`)
  const t = table(['unit', 'kind', 'state', 'worker', 'attempts', 'progress'])
  for (const u of j.units) t.push([u.index, u.kind, u.state, shortPeer(u.worker), u.attempts, percent(u.progress)])
  return `${lines.join('\n')}\n${t.toString()}`
}

export function peersTable (peers: PeerStatus[]): string {
  const t = table(['peer', 'name', 'free slots', 'encoders', 'free disk', 'last seen'])
  for (const p of peers) t.push([p.id, p.name, p.slotsFree, p.encoders.join(' '), p.diskFull === true ? 'full' : humanBytes(p.diskFree), ago(p.lastSeen)])
  return t.toString()
}

export function profilesTable (profiles: Profile[]): string {
  const t = table(['profile', 'kind', 'container', 'description'])
  for (const p of profiles) t.push([p.name, p.kind, p.container, p.description ?? ''])
  return t.toString()
}

export function watchesTable (watches: WatchStatus[]): string {
  const t = table(['path', 'profile', 'output', 'state', 'submitted', 'skipped'])
  for (const w of watches) t.push([w.path, w.profile, w.output, w.reason != null ? `${w.state}: ${w.reason}` : w.state, w.submitted.length, w.skipped.length])
  return t.toString()
}
