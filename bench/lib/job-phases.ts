/**
 * Where a job's time went, from the owner's events (each carries its time) and the media spans of
 * timed-media.ts. Every figure is seconds from the owner's own clock.
 */
import type { NodeEvent } from '@ffmesh/protocol'
import type { MediaSpan } from './timed-media.ts'

export interface Phase { name: string, ms: number, what: string }

const first = (events: NodeEvent[], type: string): NodeEvent | undefined => events.find(e => e.type === type)
const last = (events: NodeEvent[], type: string): NodeEvent | undefined => events.filter(e => e.type === type).at(-1)
const spanMs = (spans: MediaSpan[], op: string): number =>
  spans.filter(s => s.op === op).reduce((n, s) => n + s.end - s.start, 0)

export function jobPhases (init: {
  t0: number
  submitReturned: number
  end: number
  events: NodeEvent[]
  spans: MediaSpan[]
}): Phase[] {
  const { events, spans } = init
  const at = (e: NodeEvent | undefined, what: string): number => {
    if (e == null) throw new Error(`the job log has no ${what} event; cannot split the time into phases`)
    return e.time
  }
  const submitted = at(first(events, 'job:submitted'), 'job:submitted')
  const planned = at(first(events, 'job:planned'), 'job:planned')
  // The first unit granted once the plan is logged: an audio unit is granted before, as the cut runs.
  const firstLease = at(events.find(e => e.type === 'unit:leased' && e.time >= planned), 'unit:leased')
  const lastVerified = at(last(events, 'unit:verified'), 'unit:verified')
  const assembling = at(first(events, 'job:assembling'), 'job:assembling')
  const done = at(first(events, 'job:done'), 'job:done')
  const planSource = spanMs(
    spans.filter(s => s.start >= submitted),
    'planSource'
  )
  const assemble = spanMs(spans, 'assembleOutput')
  const verify = spanMs(spans, 'verifyOutput')
  return [
    { name: 'intake', ms: init.submitReturned - init.t0, what: 'submit call: stat, ffprobe, log job:submitted' },
    {
      name: 'plan: split',
      ms: planSource,
      what: 'the cut (stream copy, with its packet list) + audio copy; whole: the packet list'
    },
    {
      name: 'plan: hash + blobs',
      ms: planned - submitted - planSource,
      what: 'SHA-512 of the source, import (hash) of every piece'
    },
    { name: 'first grant', ms: firstLease - planned, what: 'owner tick, offer, claim window, grant' },
    {
      name: 'units',
      ms: lastVerified - firstLease,
      what: 'first grant to last unit verified (encodes, hashes, frame counts)'
    },
    { name: 'to assembly', ms: assembling - lastVerified, what: 'owner tick after the last unit' },
    { name: 'assemble', ms: assemble, what: 'concat/mux of the units (a whole unit: a copy)' },
    {
      name: 'verify',
      ms: verify,
      what: "the output's streams, packets and ends (a Matroska walk, else ffprobe)"
    },
    { name: 'place output', ms: done - assembling - assemble - verify, what: 'link into place, fsync, log job:done' },
    { name: 'event to bench', ms: init.end - done, what: 'job:done reaching the bench' }
  ]
}

/** Per-unit lines: kind, encode seconds, and grant-to-verified seconds. */
export function unitLines (events: NodeEvent[], spans: MediaSpan[]): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = []
  const leased = events.filter(e => e.type === 'unit:leased')
  for (const lease of leased) {
    const verified = events.find(e => e.type === 'unit:verified' && e.index === lease.index)
    const convert = spans.find(s => s.op === 'convertUnit' && s.detail.endsWith(` ${String(lease.index)}`))
    rows.push([
      `unit ${String(lease.index)} (${convert?.detail.split(' ')[0] ?? '?'})`,
      convert == null ? '-' : ((convert.start - lease.time) / 1000).toFixed(1),
      convert == null ? '-' : ((convert.end - convert.start) / 1000).toFixed(1),
      verified == null || convert == null ? '-' : ((verified.time - convert.end) / 1000).toFixed(1),
      verified == null ? '-' : ((verified.time - lease.time) / 1000).toFixed(1)
    ])
  }
  return rows
}
