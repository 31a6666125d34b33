import { unitKey } from '@ffmesh/protocol'
import { indexKey, seqKey, type GapRecord, type Sublevels } from './log-db.js'
import type { LogDamage, LogScan } from './log-check.js'
import type { BatchOp } from './log-writer.js'
import type { JobEvent } from './records.js'

/**
 * Records a loss once it has been reported (`lostIndexKeys`: the index entries of the lost jobs), in the batch that
 * marks the jobs it touched: lost
 * record numbers become known gaps, a job's missing events get placeholders, the records of jobs
 * whose own record is gone are deleted (their blobs stay), and each job to hold gets a
 * `job:damaged` event. The next open then finds the log whole and the jobs still held; a later
 * loss is told apart from this one.
 */
export function damageOps (
  subs: Sublevels,
  scan: LogScan,
  damage: LogDamage,
  lostIndexKeys: string[],
  now: number
): { ops: BatchOp[]; events: Array<{ jobId: string; event: JobEvent }> } {
  const ops: BatchOp[] = []
  for (const seq of damage.lostSeqs) {
    ops.push({
      type: 'put',
      sublevel: subs.gaps,
      key: seqKey(seq),
      value: { why: 'lost', jobId: damage.lostOwners.get(seq) ?? null, at: now } satisfies GapRecord
    })
  }
  for (const e of damage.missingEvents) {
    ops.push({ type: 'put', sublevel: subs.byJob, key: indexKey(e.jobId, e.jobSeq), value: 0 })
  }
  const lostJobs = new Set(damage.lostJobs)
  for (const u of scan.strayUnits) {
    if (lostJobs.has(u.jobId)) ops.push({ type: 'del', sublevel: subs.units, key: unitKey(u.jobId, u.index) })
  }
  for (const key of lostIndexKeys) ops.push({ type: 'del', sublevel: subs.byJob, key })
  const events = [...damage.attention].map(([jobId, reason]) => ({
    jobId,
    event: { type: 'job:damaged' as const, reason }
  }))
  return { ops, events }
}

/** One line for the node's log: what was lost, in numbers. */
export function describeDamage (damage: LogDamage, drops: { count: number, bytes: number }): Record<string, unknown> {
  return {
    droppedByLevelDb: drops,
    lostRecords: damage.lostSeqs.length,
    firstLostRecords: damage.lostSeqs.slice(0, 20),
    jobsNeedingAttention: [...damage.attention.keys()],
    jobsLost: damage.lostJobs,
    cutShort: damage.cutShort
  }
}
