import {
  ErrorCodes,
  EVENT_STREAM_RESET,
  FfmeshError,
  type EventStreamReset,
  type JobStatus,
  type NodeEvent
} from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import type { ControlClient, EventSubscription } from './client.js'
import { followJobs } from './follow-jobs.js'
import { paced } from '../../../test/helpers/pace.js'
import { waitingForNode } from './node-return.js'

/**
 * A node stand-in (a unit test: the real client and node are covered by the CLI tests): job
 * states it answers with, every status read it served, and events the test pushes as it goes.
 */
function standIn (ids: string[]) {
  const states = new Map<string, JobStatus['state']>(ids.map(id => [id, 'running']))
  const reads: string[] = []
  const queue: Array<NodeEvent | EventStreamReset> = []
  let deliver: (() => void) | null = null
  const status = (id: string): JobStatus => ({ id, state: states.get(id) }) as unknown as JobStatus
  const subscription: EventSubscription = {
    lastEventId: null,
    close () {},
    async * [Symbol.asyncIterator] () {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as NodeEvent
        await new Promise<void>(resolve => { deliver = resolve })
      }
    }
  }
  const client = {
    getJob: async (id: string) => { reads.push(id); return status(id) },
    listJobs: async () => { reads.push('*'); return ids.map(status) },
    openEvents: async () => subscription
  } as unknown as ControlClient
  const push = (ev: NodeEvent | EventStreamReset): void => { queue.push(ev); deliver?.() }
  return { client, states, reads, push }
}

const progress = (jobId: string): NodeEvent => ({ type: 'unit:progress', time: 0, jobId, index: 0 })

describe('following jobs', () => {
  it('reads again only the jobs an event touched; a reset reads them all', async () => {
    const ids = ['a', 'b', 'c']
    const node = standIn(ids)
    const updates: JobStatus[][] = []
    let seen = 0
    // Each update is a read the test waits for before it pushes the next event.
    const next = async (): Promise<void> => {
      const target = seen + 1
      while (updates.length < target) await new Promise(resolve => setImmediate(resolve))
      seen = target
    }
    const followed = followJobs(node.client, ids, { onUpdate: jobs => updates.push(jobs) })
    await next()
    expect(node.reads.sort()).toEqual(['a', 'b', 'c'])

    node.reads.length = 0
    node.push(progress('b'))
    await next()
    expect(node.reads).toEqual(['b'])

    node.reads.length = 0
    node.push({ type: EVENT_STREAM_RESET, reason: 'expired' })
    await next()
    expect(node.reads.sort()).toEqual(['a', 'b', 'c'])

    node.reads.length = 0
    for (const id of ids) node.states.set(id, 'done')
    for (const id of ids) node.push({ type: 'job:done', time: 0, jobId: id })
    const final = await followed
    expect(final.map(j => j.state)).toEqual(['done', 'done', 'done'])
    expect(node.reads.sort()).toEqual(['a', 'b', 'c'])
  })

  it('follows by reading status when the node has no event stream to spare', async () => {
    const state = { a: 'running' as JobStatus['state'], opens: 0, reads: 0 }
    const client = {
      getJob: async (id: string) => { state.reads++; return { id, state: state.a } as unknown as JobStatus },
      openEvents: async () => {
        state.opens++
        throw new FfmeshError(ErrorCodes.TOO_MANY_STREAMS, 'this node serves 128 event streams at once already')
      }
    } as unknown as ControlClient
    const followed = followJobs(client, ['a'], { onUpdate: () => { state.a = 'done' } })
    // The first read finds it running; the next one, a poll FALLBACK_POLL_MS later, done.
    const final = await followed
    expect(final.map(j => j.state)).toEqual(['done'])
    expect(state.reads).toBe(2)
    expect(state.opens).toBe(2)
  })

  it('rides over a node restart: waits while it is away, then reads every job again', async () => {
    const ids = ['a', 'b']
    const states = new Map<string, JobStatus['state']>(ids.map(id => [id, 'running']))
    const reads: string[] = []
    let up = true
    let opened = 0
    let endStream = (): void => {}
    const refused = (): FfmeshError =>
      new FfmeshError(ErrorCodes.NODE_NOT_RUNNING, 'no node', { socketError: 'ECONNREFUSED' })
    const client = {
      getJob: async (id: string) => {
        if (!up) throw refused()
        reads.push(id)
        return { id, state: states.get(id) } as unknown as JobStatus
      },
      openEvents: async () => {
        if (!up) throw refused()
        opened++
        // A stream that stays open, with no events, until the node stops.
        const ended = new Promise<void>(resolve => { endStream = resolve })
        return {
          lastEventId: null,
          close () { endStream() },
          async * [Symbol.asyncIterator] () {
            await ended
            yield * ([] as NodeEvent[])
          }
        } as EventSubscription
      }
    } as unknown as ControlClient
    const said: string[] = []
    const updates: JobStatus[][] = []
    const followed = followJobs(client, ids, {
      onUpdate: jobs => updates.push(jobs),
      nodeCall: waitingForNode({ pollMs: 1, onAway: () => said.push('away'), onBack: () => said.push('back') })
    })
    const until = async (what: () => boolean): Promise<void> => {
      const deadline = performance.now() + paced(10_000)
      while (!what()) {
        if (performance.now() > deadline) throw new Error(`timed out: ${what.toString()}`)
        await new Promise(resolve => setImmediate(resolve))
      }
    }
    await until(() => updates.length === 1)

    // The node stops: its stream ends and it refuses connections; its jobs end meanwhile.
    up = false
    endStream()
    await until(() => said.includes('away'))
    reads.length = 0
    for (const id of ids) states.set(id, 'done')
    up = true
    const final = await followed
    expect(final.map(j => j.state)).toEqual(['done', 'done'])
    expect(said).toEqual(['away', 'back'])
    expect(opened).toBe(2)
    expect(reads.sort()).toEqual(['a', 'b'])

    // Ctrl-C while the node is away ends the follow with what it read, as at any other time.
    const interrupt = new AbortController()
    up = false
    const stopped = followJobs(client, ids, {
      onUpdate: () => {},
      signal: interrupt.signal,
      nodeCall: waitingForNode({ pollMs: 1, signal: interrupt.signal, onAway: () => interrupt.abort() })
    })
    await expect(stopped).resolves.toEqual([])
  })
})
