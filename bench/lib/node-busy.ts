/**
 * Where a mesh's wall time went, node by node, from the tries the owner logged for each unit: when
 * each node first started ffmpeg, how long it had a video unit converting, when its last one was
 * verified. What a node did not spend converting between the submit and the end is its idle time:
 * waiting for work at the start (intake, planning), between units, and at the end of the run.
 */
import type { UnitStatus } from '@ffmesh/protocol'

export interface NodeBusy {
  /** Seconds from the submit to the node's first ffmpeg start of a video unit. */
  firstStartSec: number
  /** Seconds in which the node had a video unit converting (overlaps counted once). */
  busySec: number
  /** Seconds from the submit to the node's last video unit verified or released. */
  lastEndSec: number
  units: number
}

/** Per peer id, in `peers` order; a node that converted nothing gets NaN times and 0 units. */
export function nodeBusy (units: UnitStatus[], peers: string[], submittedAt: number): NodeBusy[] {
  return peers.map(peer => {
    const spans: Array<[number, number]> = []
    for (const u of units) {
      if (u.kind === 'audio') continue
      for (const t of u.tries ?? []) {
        if (t.worker !== peer || t.convertingAt == null || t.endedAt == null) continue
        spans.push([(t.convertingAt - submittedAt) / 1000, (t.endedAt - submittedAt) / 1000])
      }
    }
    spans.sort((a, b) => a[0] - b[0])
    let busySec = 0
    let reach = -Infinity
    for (const [start, end] of spans) {
      busySec += Math.max(0, end - Math.max(start, reach))
      reach = Math.max(reach, end)
    }
    return {
      firstStartSec: spans.length > 0 ? Math.min(...spans.map(s => s[0])) : NaN,
      busySec,
      lastEndSec: spans.length > 0 ? Math.max(...spans.map(s => s[1])) : NaN,
      units: spans.length
    }
  })
}

/** One line per node: "node 0: 12 units, first at 1.2 s, busy 130.4 s, last at 140.1 s". */
export function describeBusy (busy: NodeBusy[], wallSec: number): string {
  return busy
    .map((b, k) =>
      `node ${k}: ${b.units} units, first at ${b.firstStartSec.toFixed(1)} s, busy ${b.busySec.toFixed(1)} s ` +
        `(${((b.busySec / wallSec) * 100).toFixed(0)} % of ${wallSec.toFixed(1)} s), last at ${b.lastEndSec.toFixed(1)} s`)
    .join('; ')
}
