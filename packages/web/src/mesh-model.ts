import type { JobStatus, NodeInfo, PeerStatus } from '@ffmesh/protocol'

/**
 * What the mesh page shows of one node. A node with the mesh status routes answers these fields
 * itself (`GET /v1/mesh/nodes`); otherwise the page builds them from this node's own view: its
 * peers' adverts and the units of its own jobs. Fields a node cannot tell are left out, and the
 * page leaves out what they would show. Pure functions: tested without a browser.
 */
export interface ConvertingView {
  jobId: string
  index: number
  owner: string
  phase: 'fetching' | 'converting' | 'returning'
  progress: number
}

export interface MeshNodeView {
  id: string
  name: string
  self: boolean
  online: boolean
  lastSeen: number
  version?: string
  slotsTotal: number
  slotsFree: number
  encoders: string[]
  diskFree: number | null
  diskFull?: boolean
  paused?: boolean
  draining?: boolean
  schedule?: { open: boolean, next: number | null } | null
  converting: ConvertingView[]
}

/** A peer not heard for three advert intervals (mesh.advertiseSeconds, 5 s) is shown as away. */
export const AWAY_AFTER_MS = 15_000

const BUSY_STATES = new Set(['leased', 'converting', 'returned'])

/** Units of `jobs` that a worker holds now, by worker id. */
export function unitsByWorker (jobs: Iterable<JobStatus>): Map<string, ConvertingView[]> {
  const out = new Map<string, ConvertingView[]>()
  for (const job of jobs) {
    for (const u of job.units) {
      if (u.worker == null || !BUSY_STATES.has(u.state)) continue
      const list = out.get(u.worker) ?? []
      list.push({ jobId: job.id, index: u.index, owner: job.owner, phase: u.state === 'leased' ? 'fetching' : u.state === 'returned' ? 'returning' : 'converting', progress: u.progress })
      out.set(u.worker, list)
    }
  }
  return out
}

/** The mesh as this node sees it without the mesh routes: itself first, then its peers by name. */
export function meshFromPeers (info: NodeInfo, peers: PeerStatus[], jobs: Iterable<JobStatus>, now: number): MeshNodeView[] {
  const busy = unitsByWorker(jobs)
  const self: MeshNodeView = {
    id: info.id,
    name: info.name,
    self: true,
    online: true,
    lastSeen: now,
    version: info.version,
    slotsTotal: info.slots,
    // Its own jobs' units are all this node knows of its worker here; others' are not counted.
    slotsFree: Math.max(0, info.slots - (busy.get(info.id)?.length ?? 0)),
    encoders: [],
    diskFree: null,
    converting: busy.get(info.id) ?? []
  }
  const others = [...peers].sort((a, b) => a.name.localeCompare(b.name)).map((p): MeshNodeView => ({
    id: p.id,
    name: p.name,
    self: false,
    online: now - p.lastSeen < AWAY_AFTER_MS,
    lastSeen: p.lastSeen,
    slotsTotal: p.slotsTotal,
    slotsFree: p.slotsFree,
    encoders: p.encoders,
    diskFree: p.diskFree,
    converting: busy.get(p.id) ?? []
  }))
  return [self, ...others]
}

/** Peer id → name, for "which node converted which unit". */
export function nodeNames (nodes: MeshNodeView[]): Map<string, string> {
  return new Map(nodes.map(n => [n.id, n.name]))
}
