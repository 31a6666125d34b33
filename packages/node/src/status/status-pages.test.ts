import { describe, expect, it } from 'vitest'
import { newJobId, StatusReplySchema, type JobStatus } from '@ffmesh/protocol'
import { fillJobsPage, fromWireJob } from './status-pages.js'

const OWNER = '12D3KooWLZd1ovTLzMaBH93PVtzD7HU5cycoXRwWNJEwneGoPj5G'
const WORKER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

/** A job as the owner's `ffmesh status` shows it, with every field a library job and the dashboard's timeline add. */
function skippedJob (): JobStatus {
  return {
    id: newJobId(),
    state: 'skipped',
    profile: 'h265',
    source: '/srv/media/show/e01.mkv',
    output: null,
    error: null,
    units: [{
      index: 0, kind: 'whole', state: 'verified', worker: WORKER, attempts: 1, progress: 1, durationSec: 12,
      tries: [{ worker: WORKER, attempt: 1, leasedAt: 1_000, convertingAt: 1_200, endedAt: 9_000, outcome: 'verified' }]
    }],
    owner: OWNER,
    createdAt: 1_000,
    updatedAt: 9_500,
    waiting: null,
    attention: null,
    progress: 1,
    reason: { code: 'NO_SAVING', message: 'the output (5.0 MiB) saves less than 10 % of the source (5.2 MiB)' },
    bytesIn: 5_452_595,
    bytesOut: 5_242_880
  }
}

describe('jobs on the status protocol', () => {
  it('carries a skipped job with its reason, bytes and unit tries to another node unchanged', () => {
    const job = skippedJob()
    const page = fillJobsPage([job], 10)
    // What the asking node checks before use: a reply that fails it lists no job of this owner.
    const reply = StatusReplySchema.parse({ ok: true, type: 'jobs', jobs: page, next: null })
    if (!reply.ok || reply.type !== 'jobs') throw new Error('not a jobs reply')
    const [wire] = reply.jobs
    expect(fromWireJob(wire as never, wire?.units ?? [])).toEqual(job)
  })
})
