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
   * The ops that record `seqs` (ascending) as let go, and the commit that takes them into the runs
   * held here once they are written. Numbers a run holds already are left out: a run's record is
   * only ever widened, never replaced by a shorter one.
   */
  add(gaps: unknown, seqs: number[], at: number): { ops: BatchOp[], commit: () => void }
  /** Whether a run holds this number. */
  covers(seq: number): boolean
  /** Takes the runs the log holds, as it was opened (ascending by first number, none touching). */
  reset(runs: Iterable<SeqRun>): void
  /** How many runs (gap records) there are. */
  readonly size: number
}

export function createGapRuns (): GapRuns {
  /** Ascending by first number; no two overlap or touch. */
  let runs: SeqRun[] = []

  /** The index of the last run whose first number is at most `seq` (-1 for none). */
  const lastStartingBy = (seq: number): number => {
    let lo = 0
    let hi = runs.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if ((runs[mid] as SeqRun)[0] <= seq) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }
  const covers = (seq: number): boolean => {
    const run = runs[lastStartingBy(seq)]
    return run != null && run[1] >= seq
  }

  return {
    add (gaps, seqs, at) {
      const fresh = toRuns(seqs.filter(seq => !covers(seq)))
      // Held runs that a new one touches, by first number (a run between two new ones touches both).
      const touched = new Map<number, SeqRun>()
      for (const [first, through] of fresh) {
        for (const i of [lastStartingBy(first - 1), lastStartingBy(through + 1)]) {
          const run = runs[i]
          if (run != null && run[1] >= first - 1 && run[0] <= through + 1) touched.set(run[0], run)
        }
      }
      const absorbed = [...touched.values()]
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
          if (merged.length > 0) runs = mergeRuns([...runs, ...merged])
        }
      }
    },
    covers,
    reset (held) {
      runs = mergeRuns([...held])
    },
    get size () {
      return runs.length
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
