import { ErrorCodes, MAX_UNITS_IN_JOB_STATE } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import { jobRecord, OWNER_PEER as SELF, unitRecord } from '../../../../../test/fixtures/job-log.js'
import type { JobView } from '../../store/reduce.js'
import type { JobRecord } from '../../store/records.js'
import type { Mirror } from '../handoff/mirrors.js'
import type { DiskState } from '../shared/disk-monitor.js'
import { createOwnerState } from './owner-state.js'
import { createJobStatus, mirrorOf, reportedUnits, type JobStatusComponents } from './status.js'

const OTHER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

/** The builder over one job, with the disk, the job log and the owner's space hold as given. */
function builder (job: JobRecord, parts: { full?: boolean, spaceHold?: string, mirror?: Mirror } = {}) {
  const view: JobView = { job, units: [unitRecord(job.id, 0)] }
  const full: DiskState = { full: true, free: 1, reserve: 2, dir: job.outDir, what: 'output folder' } as DiskState
  const c: JobStatusComponents = {
    self: SELF,
    clock: () => 1_000,
    store: { job: (id: string) => id === job.id ? view : undefined, problem: () => null } as never,
    disk: { fullFor: () => parts.full === true ? full : null } as never,
    owner: { state: createOwnerState(), spaceHold: () => parts.spaceHold ?? null },
    mirrors: new Map(parts.mirror == null ? [] : [[job.id, parts.mirror]])
  }
  return createJobStatus(c)
}

describe('the one status builder', () => {
  it('shows a handed-off job as its new owner last reported it', () => {
    const mirror = mirrorOf({ progress: 0.5, units: [{ index: 0, state: 'verified', worker: OTHER, attempts: 1 }] })
    const s = builder(jobRecord('J1', { owner: OTHER, state: 'running' }), { mirror }).ofId('J1')
    expect(s.progress).toBe(0.5)
    expect(s.units).toEqual([{ index: 0, state: 'verified', worker: OTHER, attempts: 1, kind: 'segment', progress: 1, durationSec: 0 }])
  })

  it('says why a job of this node waits: attention, a handoff, a full disk, a step out of space', () => {
    expect(builder(jobRecord('J1', { attention: 'it failed on 3 workers' })).ofId('J1').waiting)
      .toMatch(/^needs attention: it failed on 3 workers\. `ffmesh retry J1`/)
    expect(builder(jobRecord('J1', { handoff: true })).ofId('J1').waiting).toMatch(/handoff/)
    expect(builder(jobRecord('J1', { handoff: true, handoffTo: OTHER })).ofId('J1').waiting).toBe(`handing off to ${OTHER}`)
    expect(builder(jobRecord('J1'), { full: true }).ofId('J1').waiting).toMatch(/disk is full/)
    expect(builder(jobRecord('J1'), { spaceHold: 'out of space' }).ofId('J1').waiting).toBe('out of space')
    // An ended job waits for nothing, whatever the disk.
    expect(builder(jobRecord('J1', { state: 'done' }), { full: true }).ofId('J1').waiting).toBeNull()
  })

  it('refuses a job this node does not have with JOB_NOT_FOUND', () => {
    expect(() => builder(jobRecord('J1')).ofId('J2')).toThrow(expect.objectContaining({ code: ErrorCodes.JOB_NOT_FOUND }))
  })

  it('reports units to a submitter up to the message\'s limit, and none past it', () => {
    const s = builder(jobRecord('J1')).ofId('J1')
    expect(reportedUnits(s)).toEqual([{ index: 0, state: 'pending', worker: null, attempts: 0 }])
    const unit = s.units[0] as (typeof s.units)[0]
    const many = { ...s, units: Array.from({ length: MAX_UNITS_IN_JOB_STATE + 1 }, () => unit) }
    expect(reportedUnits(many)).toBeNull()
  })
})
