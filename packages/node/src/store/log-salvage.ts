import { isDeepStrictEqual } from 'node:util'
import { unitKey } from '@ffmesh/protocol'
import { indexKey, sublevels, type GapRecord, type LogLevel } from './log-db.js'
import { isGapRecord } from './log-load.js'
import { replay } from './reduce.js'
import { decodeRecord } from './record-codec.js'
import type { LoggedEvent } from './records.js'
import type { BatchOp } from './log-writer.js'

/** The log's own sublevels (record-codec.ts); a record among them that does not decode is unreadable. */
const JSON_SUBLEVELS = ['log', 'jobs', 'units', 'by-job', 'gaps', 'meta']

/** Whether a record decodes, and is what its key says (a damaged block can give valid JSON of the wrong shape). */
function decodes (sublevel: string, key: string, text: string): boolean {
  let value: Record<string, unknown>
  try {
    value = decodeRecord(text) as Record<string, unknown>
  } catch {
    return false
  }
  if (sublevel === 'log') {
    return (
      value?.seq === Number(key) &&
      typeof value.jobId === 'string' &&
      typeof (value.event as { type?: unknown } | null)?.type === 'string'
    )
  }
  if (sublevel === 'jobs') return value?.id === key
  if (sublevel === 'gaps') return isGapRecord(key, value as unknown as GapRecord)
  if (sublevel === 'units') {
    return typeof value?.jobId === 'string' && key === unitKey(value.jobId, value.index as number)
  }
  return true
}

export interface Salvage {
  /** Records that LevelDB could read but that are not the JSON they must be: deleted. */
  unreadable: number
  /** Jobs whose views were rebuilt from a whole history (their job or unit records were lost or stale). */
  rebuilt: string[]
}

/**
 * After LevelDB's own repair: deletes records that cannot be decoded, and rebuilds the views of
 * every job whose events all survived (numbered 1..n without a gap, starting with its submit) but
 * whose job or unit records were lost or left behind, since the events are the truth and the
 * views only follow from them. Jobs with missing events are left to the open-time checks, which
 * hold them for a person.
 */
export async function salvageLog (db: LogLevel): Promise<Salvage> {
  let unreadable = 0
  for (const name of JSON_SUBLEVELS) {
    const raw = db.sublevel<string, string>(name, { valueEncoding: 'utf8' })
    const bad: string[] = []
    for await (const [key, value] of raw.iterator()) if (!decodes(name, key, value)) bad.push(key)
    if (bad.length > 0) await raw.batch(bad.map(key => ({ type: 'del' as const, key })), { sync: true } as never)
    unreadable += bad.length
  }

  const s = sublevels(db)
  const histories = new Map<string, LoggedEvent[]>()
  for await (const e of s.log.values()) {
    if (e?.event == null || e.event.type === 'job:removed') continue
    histories.set(e.jobId, [...histories.get(e.jobId) ?? [], e])
  }
  const rebuilt: string[] = []
  for (const [jobId, history] of histories) {
    const whole = history[0]?.event.type === 'job:submitted' && history.every((e, i) => e.jobSeq === i + 1)
    if (!whole) continue
    const view = replay(history)
    if (view == null) continue
    const storedJob = await s.jobs.get(jobId)
    // Events lost at the end of a history would make the replay older than the record: keep the record.
    if (storedJob != null && history.length < (storedJob.eventCount ?? 0)) continue
    const storedUnits = await s.units.values({ gte: `${jobId}:`, lt: `${jobId};` }).all()
    if (isDeepStrictEqual(storedJob, view.job) && isDeepStrictEqual(storedUnits, view.units)) continue
    const ops: BatchOp[] = [
      { type: 'put', sublevel: s.jobs, key: jobId, value: view.job },
      ...storedUnits
        .filter(u => view.units[u.index] == null)
        .map(u => ({ type: 'del' as const, sublevel: s.units, key: unitKey(jobId, u.index) })),
      ...view.units.map(u => ({ type: 'put' as const, sublevel: s.units, key: unitKey(jobId, u.index), value: u })),
      ...history.map(e => ({
        type: 'put' as const,
        sublevel: s.byJob,
        key: indexKey(jobId, e.jobSeq as number),
        value: e.seq
      }))
    ]
    await db.batch(ops as never, { sync: true } as never)
    rebuilt.push(jobId)
  }
  return { unreadable, rebuilt }
}
