/**
 * Checks the owner's unit events for the invariant "no unit is ever granted twice at once": a lease
 * is live from `unit:leased` until `unit:verified` or `unit:released` of that unit.
 */
import type { NodeEvent } from '@ffmesh/protocol'

export interface LeaseAudit {
  leases: number
  reLeases: number
  overlaps: string[]
  verifiedTwice: number[]
  neverVerified: number[]
}

export function auditLeases (events: NodeEvent[], unitCount: number): LeaseAudit {
  const live = new Map<number, NodeEvent>()
  const verified = new Map<number, number>()
  const leasedOnce = new Set<number>()
  const overlaps: string[] = []
  let leases = 0
  let reLeases = 0
  for (const e of events) {
    if (e.index == null) continue
    if (e.type === 'unit:leased') {
      leases++
      if (leasedOnce.has(e.index)) reLeases++
      leasedOnce.add(e.index)
      const earlier = live.get(e.index)
      if (earlier != null) {
        overlaps.push(
          `unit ${e.index} leased to ${e.peerId ?? '?'} at ${e.time} while the lease to ${earlier.peerId ?? '?'} from ${earlier.time} was live`
        )
      }
      live.set(e.index, e)
    } else if (e.type === 'unit:verified' || e.type === 'unit:released') {
      live.delete(e.index)
      if (e.type === 'unit:verified') verified.set(e.index, (verified.get(e.index) ?? 0) + 1)
    }
  }
  const all = [...Array(unitCount).keys()]
  return {
    leases,
    reLeases,
    overlaps,
    verifiedTwice: all.filter(i => (verified.get(i) ?? 0) > 1),
    neverVerified: all.filter(i => (verified.get(i) ?? 0) === 0)
  }
}
