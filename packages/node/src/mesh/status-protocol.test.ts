import {
  encodeFrame,
  MAX_STREAM_FRAME_BYTES,
  newJobId,
  STATUS_PROTOCOL,
  StatusReplySchema,
  type JobStatus,
  type UnitStatus
} from '@ffmesh/protocol'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  meshConfig,
  newSwarmKey,
  startTestMesh,
  stopTestMesh,
  waitFor,
  type TestMesh
} from '../../../../test/helpers/mesh-fixtures.js'
import { startLiar, type Liar } from '../../../../test/security/liar.js'
import { createPeerAsker } from '../status/mesh-collector.js'
import { createStatusSource } from '../status/status-source.js'
import type { JobView } from '../store/reduce.js'
import { createStreamReader } from './stream-io.js'

/** Owned jobs of a busy node: 10,000 jobs of 3 units and one of 3,000 units (larger than a frame). */
const JOBS = 10_000
const BIG_UNITS = 3_000

describe('status protocol (real libp2p on loopback)', () => {
  let owner: TestMesh
  let asker: TestMesh
  /** A member that sends raw frames: what a buggy or hostile peer could. */
  let liar: Liar
  const statuses = new Map<string, JobStatus>()
  let bigId = ''

  beforeAll(async () => {
    const key = newSwarmKey()
    owner = await startTestMesh(key, meshConfig())
    asker = await startTestMesh(key, meshConfig({ bootstrap: owner.mesh.multiaddrs() }))
    await waitFor(() => asker.mesh.isConnected(owner.mesh.peerId), 'the asker to reach the owner')
    liar = await startLiar(key)
    await liar.connect(owner.mesh.multiaddrs())
    const unit = (index: number, worker: string | null): UnitStatus => ({
      index,
      kind: 'segment',
      state: worker == null ? 'pending' : 'verified',
      worker,
      attempts: worker == null ? 0 : 1,
      progress: worker == null ? 0 : 1,
      durationSec: 6
    })
    const base = Date.parse('2026-01-01T00:00:00Z')
    for (let i = 0; i < JOBS + 1; i++) {
      const id = newJobId(base + i * 1000)
      const count = i === JOBS ? BIG_UNITS : 3
      if (i === JOBS) bigId = id
      statuses.set(id, {
        id,
        state: i % 2 === 0 ? 'done' : 'running',
        profile: 'h264',
        source: `/media/film-${i}.mkv`,
        output: null,
        error: null,
        owner: owner.mesh.peerId,
        createdAt: base + i * 1000,
        updatedAt: base + i * 1000,
        waiting: null,
        progress: 0.5,
        units: Array.from({ length: count }, (_, u) => unit(u, u % 2 === 0 ? asker.mesh.peerId : null))
      })
    }
    const views = [...statuses.values()].map(
      s => ({ job: { id: s.id, owner: s.owner, state: s.state } }) as unknown as JobView
    )
    owner.mesh.serveStatus(
      createStatusSource({
        store: { jobs: () => views, job: id => views.find(v => v.job.id === id) },
        self: owner.mesh.peerId,
        jobStatus: view => statuses.get(view.job.id) as JobStatus,
        running: () => [],
        controlState: () => ({
          paused: true,
          draining: false,
          schedule: { open: false, next: 1_900_000_000_000 },
          pausedBy: 'schedule',
          pausedFrom: null,
          running: 0
        }),
        remote: { enabled: false, pause: async () => {}, resume: async () => {} }
      })
    )
  })
  afterAll(async () => { await liar?.stop(); await stopTestMesh(asker); await stopTestMesh(owner) })

  it('pages 10,001 jobs newest first, and a job larger than a frame through unit pages', async () => {
    const jobs = await createPeerAsker(asker.mesh).jobs(owner.mesh.peerId, { limit: 100_000 })
    expect(jobs.length).toBe(JOBS + 1)
    const ids = jobs.map(j => j.id)
    expect(ids).toEqual([...statuses.keys()].sort().reverse())
    const big = jobs[0] as JobStatus
    expect(big.id).toBe(bigId)
    expect(big.units).toEqual(statuses.get(bigId)?.units)
    expect(jobs).toEqual(ids.map(id => statuses.get(id)))
  })

  it('filters by state and stops at the limit', async () => {
    const running = await createPeerAsker(asker.mesh).jobs(owner.mesh.peerId, { state: 'running', limit: 250 })
    expect(running.length).toBe(250)
    expect(running.every(j => j.state === 'running')).toBe(true)
  })

  it('counts the jobs it owns in each state, past any listing\'s limit', async () => {
    expect(await createPeerAsker(asker.mesh).counts(owner.mesh.peerId)).toEqual({
      queued: 0, running: JOBS / 2, assembling: 0, done: JOBS / 2 + 1, failed: 0, cancelled: 0, skipped: 0
    })
  })

  it('answers one job and the worker state; a job it does not own is not found', async () => {
    const ask = createPeerAsker(asker.mesh)
    expect((await ask.job(owner.mesh.peerId, bigId))?.units.length).toBe(BIG_UNITS)
    expect(await ask.job(owner.mesh.peerId, newJobId())).toBeNull()
    expect(await ask.node(owner.mesh.peerId)).toMatchObject({
      paused: true,
      pausedBy: 'schedule',
      schedule: { open: false, next: 1_900_000_000_000 }
    })
  })

  it('refuses a frame that is not a request, and one over the frame limit, without reading it', async () => {
    const stream = await liar.libp2p.dialProtocol(peerIdFromString(owner.mesh.peerId), STATUS_PROTOCOL)
    const reader = createStreamReader(stream)
    stream.send(encodeFrame({ type: 'jobs', before: null, limit: 1_000_000, state: null }))
    expect(await reader.readFrame(StatusReplySchema)).toMatchObject({ ok: false, code: 'BAD_REQUEST' })
    reader.dispose()
    await stream.close()
    const huge = await liar.libp2p.dialProtocol(peerIdFromString(owner.mesh.peerId), STATUS_PROTOCOL)
    const hugeReader = createStreamReader(huge)
    const prefix = new Uint8Array(4)
    new DataView(prefix.buffer).setUint32(0, MAX_STREAM_FRAME_BYTES + 1)
    huge.send(prefix)
    expect(await hugeReader.readFrame(StatusReplySchema)).toMatchObject({ ok: false, code: 'BAD_REQUEST' })
    hugeReader.dispose()
    await huge.close()
    expect(owner.mesh.stats().framesRejected).toMatchObject({
      'status-request:schema': 1,
      'status-request:too-large': 1
    })
  })

  it('answers a peer over its request rate with BUSY, and the asker waits and carries on', async () => {
    const stream = await liar.libp2p.dialProtocol(peerIdFromString(owner.mesh.peerId), STATUS_PROTOCOL)
    const reader = createStreamReader(stream)
    const codes = new Map<string, number>()
    // Far past the burst, sent at once: the first ones are answered, the rest refused.
    for (let i = 0; i < 1_500; i++) stream.send(encodeFrame({ type: 'node' }))
    for (let i = 0; i < 1_500; i++) {
      const reply = await reader.readFrame(StatusReplySchema)
      const key = reply.ok ? 'ok' : reply.code
      codes.set(key, (codes.get(key) ?? 0) + 1)
    }
    reader.dispose()
    await stream.close()
    expect(codes.get('BUSY') ?? 0).toBeGreaterThan(0)
    expect(codes.get('ok') ?? 0).toBeGreaterThanOrEqual(500)
    // Rate-limited, a whole listing still arrives: the asker retries after BUSY.
    expect((await createPeerAsker(asker.mesh).jobs(owner.mesh.peerId, { limit: 1000 })).length).toBe(1000)
  })
})
