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

/** A node's tries at video units that started converting and ended, seconds from the submit. */
interface Span { unit: UnitStatus, start: number, end: number }

function videoSpans (units: UnitStatus[], peer: string, submittedAt: number): Span[] {
  const spans: Span[] = []
  for (const unit of units) {
    if (unit.kind === 'audio') continue
    for (const t of unit.tries ?? []) {
      if (t.worker !== peer || t.convertingAt == null || t.endedAt == null) continue
      spans.push({ unit, start: (t.convertingAt - submittedAt) / 1000, end: (t.endedAt - submittedAt) / 1000 })
    }
  }
  return spans.sort((a, b) => a.start - b.start)
}

/** Per peer id, in `peers` order; a node that converted nothing gets NaN times and 0 units. */
export function nodeBusy (units: UnitStatus[], peers: string[], submittedAt: number): NodeBusy[] {
  return peers.map(peer => {
    const spans = videoSpans(units, peer, submittedAt)
    let busySec = 0
    let reach = -Infinity
    for (const { start, end } of spans) {
      busySec += Math.max(0, end - Math.max(start, reach))
      reach = Math.max(reach, end)
    }
    return {
      firstStartSec: spans.length > 0 ? Math.min(...spans.map(s => s.start)) : NaN,
      busySec,
      lastEndSec: spans.length > 0 ? Math.max(...spans.map(s => s.end)) : NaN,
      units: spans.length
    }
  })
}

/**
 * What each node ended the run on: its last `count` video units, as "clip 12 whole 25.0 s from
 * 218.0 to 231.2 s". Where one node ends well after the other, these say which units made the tail.
 */
export function describeLastUnits (
  units: UnitStatus[],
  peers: string[],
  submittedAt: number,
  nameOf: (unit: UnitStatus) => string,
  count = 2
): string {
  return peers
    .map((peer, k) => {
      const last = videoSpans(units, peer, submittedAt).sort((a, b) => a.end - b.end).slice(-count)
      const said = last.map(s =>
        `${nameOf(s.unit)} ${s.unit.kind} ${s.unit.durationSec.toFixed(1)} s from ${s.start.toFixed(1)} to ${s.end.toFixed(1)} s`)
      return `node ${k}: ${said.length > 0 ? said.join(', ') : 'none'}`
    })
    .join('; ')
}

/** One line per node: "node 0: 12 units, first at 1.2 s, busy 130.4 s, last at 140.1 s". */
export function describeBusy (busy: NodeBusy[], wallSec: number): string {
  return busy
    .map((b, k) =>
      `node ${k}: ${b.units} units, first at ${b.firstStartSec.toFixed(1)} s, busy ${b.busySec.toFixed(1)} s ` +
        `(${((b.busySec / wallSec) * 100).toFixed(0)} % of ${wallSec.toFixed(1)} s), last at ${b.lastEndSec.toFixed(1)} s`)
    .join('; ')
}
