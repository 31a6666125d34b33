import { describe, expect, it } from 'vitest'
import { newJobId, type JobState } from '@ffmesh/protocol'
import { jobRecord } from '../../../../test/fixtures/job-log.js'
import { createJobIndexes } from './job-indexes.js'

describe('the indexes of unfinished jobs', () => {
  it('walk the jobs under way and the queue in submission order, whatever order they joined in', () => {
    const indexes = createJobIndexes()
    const [a, b, c, d] = [1, 2, 3, 4].map(t => newJobId(1000 + t)) as [string, string, string, string]
    const set = (id: string, state: JobState): void => indexes.update(id, { job: jobRecord(id, { state }), units: [] })
    const ids = (it: IterableIterator<{ job: { id: string } }>): string[] => [...it].map(v => v.job.id)
    for (const id of [a, b, c, d]) set(id, 'queued')
    // Plans end out of order: c (a short file) before a and b.
    set(c, 'running')
    set(a, 'running')
    set(b, 'running')
    expect(ids(indexes.inFlight())).toEqual([a, b, c])
    expect(ids(indexes.queued())).toEqual([d])
    // An update of a job already there keeps its place.
    set(a, 'assembling')
    expect(ids(indexes.inFlight())).toEqual([a, b, c])
    // A job that failed and is retried goes back to the queue in its place, ahead of later jobs.
    set(b, 'failed')
    set(b, 'queued')
    expect(ids(indexes.queued())).toEqual([b, d])
    expect(ids(indexes.inFlight())).toEqual([a, c])
    // The latest job under way ends; the next to join is put in its place either way.
    set(c, 'done')
    set(d, 'running')
    set(b, 'running')
    expect(ids(indexes.inFlight())).toEqual([a, b, d])
  })
})
