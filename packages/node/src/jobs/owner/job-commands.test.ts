import { describe, expect, it } from 'vitest'
import type { NodeEvent } from '@ffmesh/protocol'
import { plannedJob, useTempJobStores } from '../../../../../test/fixtures/job-log.js'
import { createEventBus } from '../../events.js'
import type { JobView } from '../../store/reduce.js'
import type { JobComponents } from '../shared/deps.js'
import { cancelJob } from './job-commands.js'

const temp = useTempJobStores('ffmesh-job-commands-')

describe('ffmesh cancel', () => {
  it('announces and stops only a cancel that took: one queued behind the job\'s end changes nothing', async () => {
    const store = await temp.open()
    const events = createEventBus()
    const heard: NodeEvent[] = []
    events.on(e => heard.push(e))
    const c = { store, events } as unknown as JobComponents
    const stopped: JobView[] = []
    const stopWork = async (view: JobView): Promise<void> => { stopped.push(view) }

    const running = await plannedJob(store, 1)
    await cancelJob(c, running, stopWork)
    expect(store.job(running)?.job.state).toBe('cancelled')
    expect(heard.map(e => [e.type, e.jobId])).toEqual([['job:cancelled', running]])
    expect(stopped).toHaveLength(1)

    // The job's end is already queued in the log when the cancel's write is: it lands first.
    const ending = await plannedJob(store, 1)
    const done = store.append(ending, { type: 'job:done', output: '/out/a.mkv', outputSize: 1 })
    await cancelJob(c, ending, stopWork)
    await done
    expect(store.job(ending)?.job.state).toBe('done')
    expect(heard.filter(e => e.jobId === ending)).toEqual([])
    expect(stopped).toHaveLength(1)
  })
})
