import { describe, expect, it } from 'vitest'
import { jobRecord, OWNER_PEER, unitRecord } from '../../../../../test/fixtures/job-log.js'
import type { JobRecord } from '../../store/records.js'
import type { JobView } from '../../store/reduce.js'
import { chooseCut, minSegmentSec, WHOLE_ON_ONE_SLOT_MAX_SEC, workAround } from './cut-policy.js'

const idle = { converting: [], waiting: [], planning: 0 }
/** The work ahead: units held (seconds left of each) and units waiting. */
const ahead = (converting: number[], waiting: number[] = []) => ({ converting, waiting, planning: 0 })
const base = { sourceBytes: 100e6, maxSegmentSec: 20, ahead: idle, afterSec: 0 }

describe('how the planner cuts a job', () => {
  it('cuts a long file on an idle mesh into segments, two per slot, within the longest segment', () => {
    expect(chooseCut({ ...base, durationSec: 600, slots: 2 })).toEqual({
      whole: false,
      segmentSeconds: 20,
      tailSegments: 2
    })
    expect(chooseCut({ ...base, durationSec: 60, slots: 2 })).toEqual({
      whole: false,
      segmentSeconds: 15,
      tailSegments: 2
    })
    // Never shorter than a segment worth its fixed cost.
    const cut = chooseCut({ ...base, durationSec: 60, slots: 8 })
    expect(cut).toMatchObject({ whole: false, tailSegments: 8 })
    expect(cut.whole === false && cut.segmentSeconds).toBeCloseTo(minSegmentSec())
  })

  it('sends a short file whole to one worker', () => {
    expect(chooseCut({ ...base, durationSec: 2 * minSegmentSec() - 1, slots: 4 })).toEqual({ whole: true, why: 'short' })
  })

  it('spreads a batch file by file while the other slots have work, and cuts where they would wait', () => {
    const batch = { ...base, durationSec: 120, slots: 2 }
    // Files queued behind this one fill the other slot.
    expect(chooseCut({ ...batch, afterSec: 400 })).toEqual({ whole: true, why: 'batch' })
    // The other slot converts a file with more left than this one.
    expect(chooseCut({ ...batch, ahead: ahead([150]) })).toEqual({ whole: true, why: 'batch' })
    // The end of a batch: the other slot has 50 s left and nothing follows.
    expect(chooseCut({ ...batch, ahead: ahead([50]) })).toMatchObject({ whole: false })
    // The unit under way is nearly done: what counts is what is left of it, not its length.
    expect(chooseCut({ ...batch, ahead: ahead([180 * 0.2]) })).toMatchObject({ whole: false })
    // Two files waiting ahead go one to each slot, so this one would end 120 s after the other slot.
    expect(chooseCut({ ...batch, ahead: ahead([], [120, 120]) })).toMatchObject({ whole: false })
    // The last two files planned together: the one ahead is spread over both slots, so this one,
    // whole, would keep the other slot waiting.
    expect(chooseCut({ ...base, durationSec: 25, slots: 2, ahead: { converting: [], waiting: [], planning: 75 } }))
      .toMatchObject({ whole: false })
    // A file much longer than the rest of the batch.
    expect(chooseCut({ ...base, durationSec: 600, slots: 2, afterSec: 300 })).toMatchObject({ whole: false })
    // Too big to send whole to another worker.
    expect(chooseCut({ ...batch, afterSec: 400, sourceBytes: 2 ** 40 })).toMatchObject({ whole: false })
  })

  it('cuts a short file that ends a batch in one piece per slot when whole it would keep a slot waiting', () => {
    // A measured unit cost that makes 25 s short: two segments of it would cost more than 10 % each.
    const costly = { fixedSec: 1, secPerMediaSec: 0.55 }
    const last = { ...base, durationSec: 25, slots: 2, unitCost: costly }
    expect(2 * minSegmentSec(costly)).toBeGreaterThan(25)
    // Alone on an idle mesh it goes whole.
    expect(chooseCut(last)).toEqual({ whole: true, why: 'short' })
    // The other slot has 3 s left and nothing follows: whole, this file would keep it waiting 22 s.
    expect(chooseCut({ ...last, ahead: ahead([3]) })).toEqual({ whole: false, segmentSeconds: 12.5, tailSegments: 0 })
    // The other slot is busy for as long as this file takes: whole.
    expect(chooseCut({ ...last, ahead: ahead([24]) })).toEqual({ whole: true, why: 'short' })
    // Files behind it fill the slot.
    expect(chooseCut({ ...last, ahead: ahead([3]), afterSec: 60 })).toEqual({ whole: true, why: 'short' })
    // Pieces shorter than 10 s cost more than they save: a 15 s clip stays whole.
    expect(chooseCut({ ...last, durationSec: 15, ahead: ahead([3]) })).toEqual({ whole: true, why: 'short' })
  })

  it('sends a file whole when the wait it leaves costs less than its cut would', () => {
    // 120 s whole against the other slot's 115 s: 5 s of waiting, less than the fixed cost of its ten units.
    expect(chooseCut({ ...base, durationSec: 120, slots: 2, ahead: ahead([115]) }))
      .toEqual({ whole: true, why: 'batch' })
    expect(chooseCut({ ...base, durationSec: 120, slots: 2, ahead: ahead([100]) }))
      .toMatchObject({ whole: false })
  })

  it('converts whole on a mesh of one slot, up to a length a restart may repeat', () => {
    expect(chooseCut({ ...base, durationSec: 180, slots: 1 })).toEqual({ whole: true, why: 'one-slot' })
    expect(chooseCut({ ...base, durationSec: WHOLE_ON_ONE_SLOT_MAX_SEC + 1, slots: 1 })).toEqual({
      whole: false,
      segmentSeconds: 20,
      tailSegments: 0
    })
  })
})

describe('the work around a job the planner weighs', () => {
  /** A job of this owner, `sec` long, submitted at `at`. */
  const job = (id: string, sec: number, at: number, fields: Partial<JobRecord> = {}): JobRecord => {
    const base = jobRecord(id, { createdAt: at, ...fields })
    return { ...base, info: { ...(base.info as NonNullable<JobRecord['info']>), durationSec: sec } }
  }
  /** A job under way with one whole unit: held (converting) or waiting. */
  const whole = (id: string, sec: number, at: number, held: boolean): JobView => {
    const unit = unitRecord(id, 0)
    const lease = held ? { state: 'leased' as const, worker: 'w', attempts: 1 } : {}
    return {
      job: job(id, sec, at, { state: 'running' }),
      units: [{ ...unit, ...lease, spec: { ...unit.spec, kind: 'whole', durationSec: sec } }]
    }
  }
  /** What workAround reads of an owner: its peer id and its jobs under way and queued. */
  const owner = (inFlight: JobView[], queued: JobView[]) => {
    const store = { inFlight: () => inFlight.values(), queued: () => queued.values() }
    return { mesh: { peerId: OWNER_PEER }, store } as never
  }

  it('counts a job submitted before this one ahead of it, queued or being planned, and a later one behind it', () => {
    // The end of a batch (as bench/batch logged it): a 150 s clip converting (144 s left), a 60 s
    // one just started, a 120 s one waiting; then clips of 15 s (submitted first), 75 s and 25 s,
    // whose plans start together, so the 15 s one is still queued.
    const inFlight = [whole('01A', 150, 1, true), whole('01B', 60, 2, true), whole('01C', 120, 3, false)]
    const before = { job: job('01D', 15, 4), units: [] }
    const self = job('01E', 75, 5, { state: 'running' })
    const after = { job: job('01F', 25, 6), units: [] }
    const progress = (jobId: string): number => (jobId === '01A' ? 0.04 : 0)
    const mesh = owner([...inFlight, { job: self, units: [] }], [before, after])
    const around = workAround(mesh, self, progress)
    expect(around.ahead.converting).toEqual([150 * 0.96, 60])
    expect(around.ahead.waiting).toEqual([120])
    expect(around.ahead.planning).toBe(15)
    expect(around.afterSec).toBe(25)
    // The 15 s clip's units are offered first, so the 75 s clip, whole, would end the batch alone.
    expect(chooseCut({ ...base, durationSec: 75, slots: 2, ...around })).toMatchObject({ whole: false })
    // The same clips, the 15 s one taken for work behind: whole (the choice the batch showed).
    expect(chooseCut({ ...base, durationSec: 75, slots: 2, ahead: { ...around.ahead, planning: 0 }, afterSec: 40 }))
      .toMatchObject({ whole: true })
    // Seen from the 15 s clip, both later clips are behind it, whether planning or queued.
    expect(workAround(mesh, before.job, progress))
      .toMatchObject({ ahead: { planning: 0 }, afterSec: 100 })
  })
})
