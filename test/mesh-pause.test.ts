import path from 'node:path'
import type { NodeControlState, NodeEvent } from '@ffmesh/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { mediaDirFor, testPattern } from './fixtures/test-pattern.js'
import { startTestNodes, stopTestNodes, waitForJob, waitForMesh, type TestNode } from './helpers/in-process.js'
import { ffmesh, ffmeshJson, waitUntil } from './helpers/node-harness.js'

const media = mediaDirFor('ffm-ms-pause-')
/**
 * The job is 36 s of 640x360 at the h264 profile on two one-thread workers; on a busy 2-core host that takes minutes.
 */
const JOB_TIMEOUT_MS = 600_000
let nodes: TestNode[] = []

afterEach(async () => { await stopTestNodes(nodes); nodes = [] })


type PeerJson = { id: string, paused: boolean, draining: boolean, nextWindow: number | null }
const peerOf = async (viewer: TestNode, peer: TestNode): Promise<PeerJson | undefined> =>
  (await ffmeshJson<PeerJson[]>(['peers'], { dataDir: viewer.dataDir })).find(p => p.id === peer.node.peerId)
const leasesTo = (owner: TestNode, worker: TestNode, from: number, to = Infinity): NodeEvent[] =>
  owner.events.filter(e => e.type === 'unit:leased' && e.peerId === worker.node.peerId && e.time > from && e.time < to)
/**
 * Leases the worker kept: a claim it sent before a pause may be granted after it (the owner
 * learns of the pause a moment later), and the worker then gives the unit back at once (BUSY).
 */
const keptLeases = (owner: TestNode, worker: TestNode, from: number, to = Infinity): NodeEvent[] =>
  leasesTo(owner, worker, from, to).filter(lease => !owner.events.some(e =>
    e.type === 'peer:rejected' && e.peerId === worker.node.peerId && e.jobId === lease.jobId &&
    e.index === lease.index && e.time >= lease.time && e.data?.code === 'BUSY'))

describe('pause, drain and resume a worker', () => {
  it(
    'pause --drain mid-unit: the unit finishes, no new grant, peers show it paused; resume: it takes units again; a plain pause gives units back at no cost',
    async () => {
      const source = await testPattern(path.join(media(), 'drain.mp4'), { seconds: 36, size: '640x360' })
      const worker = { worker: { slots: 1, threads: 1, minFreeDisk: 0 } }
      nodes = await startTestNodes([
        { name: 'owner', slots: 0, segmentSeconds: 6 },
        { name: 'w1', segmentSeconds: 6, extra: worker },
        { name: 'w2', segmentSeconds: 6, extra: worker }
      ])
      await waitForMesh(nodes)
      const [owner, w1, w2] = nodes as [TestNode, TestNode, TestNode]
      const { id } = await owner.node.api.submit({
        source,
        profile: 'h264',
        outDir: path.join(media(), 'out'),
        handoff: false
      })

      // W1 is converting a unit: pause it with --drain at once (through its control API: a CLI
      // process takes a moment to start, and the unit might be done by then; the CLI's pause is
      // the same route, tested with the other commands).
      const busy = await waitUntil(
        async () => owner.events.find(e => e.type === 'unit:converting' && e.peerId === w1.node.peerId),
        'W1 to convert a unit',
        JOB_TIMEOUT_MS
      )
      const pausedAt = Date.now()
      const drained = await w1.node.api.pause({ drain: true })
      expect(drained).toMatchObject({ paused: true, draining: true, pausedBy: 'user' })
      for (const viewer of [owner, w2]) {
        await waitUntil(
          async () => (await peerOf(viewer, w1))?.paused === true,
          `${viewer === owner ? 'the owner' : 'W2'} to list W1 as paused`,
          JOB_TIMEOUT_MS
        )
      }
      // Its running unit finishes on W1, and W1 then says it is paused and no longer draining.
      await waitUntil(
        async () => owner.events.find(e => e.type === 'unit:verified' && e.index === busy.index),
        `unit ${busy.index} to be verified`,
        JOB_TIMEOUT_MS
      )
      expect(owner.node.api.getJob(id).units[busy.index as number]?.worker).toBe(w1.node.peerId)
      expect(owner.events.some(e => e.type === 'unit:released' && e.index === busy.index && e.time > pausedAt)).toBe(
        false
      )
      await waitUntil(
        async () => (await peerOf(owner, w1))?.draining === false,
        'W1 to finish draining',
        JOB_TIMEOUT_MS
      )
      expect((await ffmesh(['peers'], { dataDir: owner.dataDir })).stdout).toMatch(/paused/)

      // While W2 works through the rest, W1 gets nothing.
      await waitUntil(
        async () =>
          owner.events.filter(e => e.type === 'unit:verified' && e.time > pausedAt).length >= 2 ? true : null,
        'W2 to convert a unit while W1 is paused',
        JOB_TIMEOUT_MS
      )
      const resumedAt = Date.now()
      expect(keptLeases(owner, w1, pausedAt, resumedAt)).toEqual([])
      // At most the one claim W1 had sent for its next unit before the pause; a paused worker claims nothing.
      expect(leasesTo(owner, w1, pausedAt, resumedAt).length).toBeLessThanOrEqual(1)
      expect(owner.events.filter(e => e.type === 'unit:converting' && e.peerId === w1.node.peerId &&
        e.time > pausedAt && e.time < resumedAt && e.index !== busy.index)).toEqual([])

      // Resume W1 and pause W2 without --drain: W2's unit goes back (BUSY, no try spent) and W1 takes units again.
      expect(await ffmeshJson<NodeControlState>(['resume'], { dataDir: w1.dataDir })).toMatchObject({
        paused: false,
        pausedBy: null
      })
      await waitUntil(
        async () => owner.node.api.getJob(id).units.some(u => u.worker === w2.node.peerId && u.state === 'converting'),
        'W2 to convert a unit',
        JOB_TIMEOUT_MS
      )
      const stoppedAt = Date.now()
      expect(await w2.node.api.pause({})).toMatchObject({ paused: true, pausedBy: 'user' })
      const job = await waitForJob(owner, id, JOB_TIMEOUT_MS)
      expect(job.state, JSON.stringify(job.error)).toBe('done')
      expect(leasesTo(owner, w1, resumedAt).length).toBeGreaterThan(0)
      expect(keptLeases(owner, w2, stoppedAt)).toEqual([])
      expect(leasesTo(owner, w2, stoppedAt).length).toBeLessThanOrEqual(1)
      const givenBack = owner.events.filter(
        e => e.type === 'peer:rejected' && e.peerId === w2.node.peerId && e.time >= stoppedAt
      )
      expect(givenBack.map(e => e.data?.code)).toContain('BUSY')
      // Given back, not failed: no release during this job counted as a failure.
      expect(owner.events.filter(e => e.type === 'unit:released' && e.data?.failure === true)).toEqual([])
      expect(w1.events.filter(e => e.type === 'node:paused' || e.type === 'node:resumed').map(e => e.type)).toEqual([
        'node:paused',
        'node:resumed'
      ])
    },
    JOB_TIMEOUT_MS
  )
})
