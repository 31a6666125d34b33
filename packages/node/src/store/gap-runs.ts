import { seqKey, type GapRecord } from './log-db.js'
import type { BatchOp } from './log-writer.js'

/** Record numbers `first` to `through`, both included. */
export type SeqRun = [first: number, through: number]

/**
 * The record numbers let go with compacted jobs' events, held as runs, one gap record per run
 * (keyed by its first number). A gap record per number would only trade each deleted event for a
 * record of its own, and the log would open no faster. A new run joins the runs it touches, so as
 * the jobs whose events lay between two runs are compacted in turn, the runs grow into one.
 */
export interface GapRuns {
  /**
   * The ops that record `seqs` (ascending, none of them a known gap) as let go, and the commit that
   * takes them into the runs held here once they are written.
   */
  add(gaps: unknown, seqs: number[], at: number): { ops: BatchOp[], commit: () => void }
  /** Takes the runs the log holds, as it was opened. */
  reset(runs: Iterable<SeqRun>): void
  /** How many runs (gap records) there are. */
  readonly size: number
}

export function createGapRuns (): GapRuns {
  const byFirst = new Map<number, number>()
  const byThrough = new Map<number, number>()

  return {
    add (gaps, seqs, at) {
      const fresh = toRuns(seqs)
      // Held runs that a new one touches, by first number (a run between two new ones touches both).
      const touched = new Map<number, number>()
      for (const [first, through] of fresh) {
        const before = byThrough.get(first - 1)
        if (before != null) touched.set(before, first - 1)
        const after = byFirst.get(through + 1)
        if (after != null) touched.set(through + 1, after)
      }
      const absorbed = [...touched]
      const merged = mergeRuns([...fresh, ...absorbed])
      const mergedFirsts = new Set(merged.map(([first]) => first))
      const ops: BatchOp[] = [
        ...absorbed
          .filter(([first]) => !mergedFirsts.has(first))
          .map(([first]): BatchOp => ({ type: 'del', sublevel: gaps, key: seqKey(first) })),
        ...merged.map(([first, through]): BatchOp => ({
          type: 'put',
          sublevel: gaps,
          key: seqKey(first),
          value: { why: 'compacted', jobId: null, at, through } satisfies GapRecord
        }))
      ]
      return {
        ops,
        commit () {
          for (const [first, through] of absorbed) {
            byFirst.delete(first)
            byThrough.delete(through)
          }
          for (const [first, through] of merged) {
            byFirst.set(first, through)
            byThrough.set(through, first)
          }
        }
      }
    },
    reset (runs) {
      byFirst.clear()
      byThrough.clear()
      for (const [first, through] of runs) {
        byFirst.set(first, through)
        byThrough.set(through, first)
      }
    },
    get size () {
      return byFirst.size
    }
  }
}

/** Ascending numbers as runs of consecutive ones. */
export function toRuns (seqs: number[]): SeqRun[] {
  const runs: SeqRun[] = []
  for (const seq of seqs) {
    const last = runs.at(-1)
    if (last != null && last[1] + 1 === seq) last[1] = seq
    else runs.push([seq, seq])
  }
  return runs
}

/** Runs that touch or overlap joined into one, in order. */
function mergeRuns (runs: SeqRun[]): SeqRun[] {
  const merged: SeqRun[] = []
  for (const [first, through] of [...runs].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1)
    if (last != null && first <= last[1] + 1) last[1] = Math.max(last[1], through)
    else merged.push([first, through])
  }
  return merged
}
