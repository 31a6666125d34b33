import path from 'node:path'
import type { MeshJobStatus, MeshNodeStatus } from '@ffmesh/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { mediaDirFor, testPattern } from './fixtures/test-pattern.js'
import { startTestNodes, stopTestNodes, waitForJob, waitForMesh, type TestNode } from './helpers/in-process.js'
import { ffmesh, ffmeshJson, waitUntil } from './helpers/node-harness.js'

const media = mediaDirFor('ffm-ms-status-')
let nodes: TestNode[] = []

afterEach(async () => { await stopTestNodes(nodes); nodes = [] })


describe('the mesh seen from any node', () => {
  it('status --mesh --json on C lists a job submitted on A with its units and workers; status JOB on C shows it; A away shows its last state', async () => {
    const source = await testPattern(path.join(media(), 'twelve.mp4'), { seconds: 12 })
    nodes = await startTestNodes([
      { name: 'node-a', slots: 1, segmentSeconds: 3 },
      { name: 'node-b', slots: 1, segmentSeconds: 3 },
      { name: 'node-c', slots: 1, segmentSeconds: 3 }
    ])
    await waitForMesh(nodes)
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode]
    const ids = new Set(nodes.map(n => n.node.peerId))
    const { id } = await a.node.api.submit({
      source,
      profile: 'h264',
      outDir: path.join(media(), 'out'),
      handoff: false
    })
    // A job of B as well: the listing holds every owner's jobs.
    const other = await b.node.api.submit({
      source,
      profile: 'h264',
      outDir: path.join(media(), 'out-b'),
      handoff: false
    })
    const done = await waitForJob(a, id)
    expect(done.state, JSON.stringify(done.error)).toBe('done')
    expect((await waitForJob(b, other.id)).state).toBe('done')

    const listing = await ffmeshJson<MeshJobStatus[]>(['status', '--mesh'], { dataDir: c.dataDir })
    const seen = listing.find(j => j.id === id)
    expect(seen).toMatchObject({
      id,
      owner: a.node.peerId,
      ownerName: 'node-a',
      ownerAway: false,
      state: 'done',
      output: done.output
    })
    expect(seen?.units).toEqual(done.units)
    expect(seen?.units.length).toBeGreaterThanOrEqual(4)
    for (const u of seen?.units ?? []) expect(ids.has(u.worker as string)).toBe(true)
    expect(listing.find(j => j.id === other.id)).toMatchObject({ owner: b.node.peerId, ownerName: 'node-b' })
    // Newest first, each job once.
    expect(listing.map(j => j.id)).toEqual([...new Set(listing.map(j => j.id))].sort().reverse())

    const one = await ffmeshJson<MeshJobStatus>(['status', id], { dataDir: c.dataDir })
    expect(one).toMatchObject({ id, owner: a.node.peerId, ownerName: 'node-a', state: 'done', ownerAway: false })
    expect(one.units).toEqual(done.units)
    // People get a table with the owner's name.
    const table = await ffmesh(['status', '--mesh'], { dataDir: c.dataDir })
    expect(table.stdout).toContain(id)
    expect(table.stdout).toContain('node-a')
    const detail = await ffmesh(['status', id.slice(0, 20)], { dataDir: c.dataDir })
    expect(detail.code, detail.stderr).toBe(0)
    expect(detail.stdout).toContain(`owner    node-a`)
    // One state and a limit narrow the mesh's listing; paging options of this node's list do not apply.
    const newestDone = await ffmeshJson<MeshJobStatus[]>(['status', '--mesh', '--state', 'done', '--limit', '1'], {
      dataDir: c.dataDir
    })
    expect(newestDone.map(j => j.id)).toEqual([[id, other.id].sort().reverse()[0]])
    expect(
      await ffmeshJson<MeshJobStatus[]>(['status', '--mesh', '--state', 'running'], { dataDir: c.dataDir })
    ).toEqual([])
    const paged = await ffmesh(['status', '--mesh', '--offset', '1', '--json'], { dataDir: c.dataDir })
    expect(paged.code).toBe(1)
    expect(JSON.parse(paged.stdout)).toMatchObject({ error: { code: 'BAD_ARGUMENTS' } })

    // Counts of the whole mesh, each job counted once by its owner; people get them above the table.
    expect(await c.node.api.meshJobCounts()).toMatchObject({ total: 2, byState: { done: 2 }, uncounted: [] })
    expect(table.stdout).toContain('2 jobs: 2 done in the mesh')

    const meshNodes = await c.node.api.meshNodes()
    expect(meshNodes[0]).toMatchObject({ id: c.node.peerId, self: true, online: true, paused: false })
    expect(new Set(meshNodes.map(n => n.id))).toEqual(ids)

    // A goes away: C still lists its job and shows it, as A's last state heard.
    await a.node.stop()
    const away = await ffmeshJson<MeshJobStatus[]>(['status', '--mesh'], { dataDir: c.dataDir })
    expect(away.find(j => j.id === id)).toMatchObject({ owner: a.node.peerId, ownerAway: true, state: 'done' })
    expect(away.find(j => j.id === other.id)).toMatchObject({ ownerAway: false })
    // C counts A's jobs as A last said; B never heard A count, and says so.
    expect(await c.node.api.meshJobCounts()).toMatchObject({ total: 2, uncounted: [] })
    expect(await b.node.api.meshJobCounts()).toMatchObject({ total: 1, byState: { done: 1 }, uncounted: ['node-a'] })
    expect(await ffmeshJson<MeshJobStatus>(['status', id], { dataDir: c.dataDir })).toMatchObject({
      id,
      ownerAway: true,
      state: 'done'
    })
    const gone = await waitUntil(
      async () => (await c.node.api.meshNodes()).find(n => n.id === a.node.peerId && !n.online),
      'C to list A as away',
      30_000
    )
    expect(gone).toMatchObject({ name: 'node-a', online: false } satisfies Partial<MeshNodeStatus>)

    // A job no node has: a clear code.
    const missing = await ffmesh(['status', '01ARZ3NDEKTSV4RRFFQ69G5FAV', '--json'], { dataDir: c.dataDir })
    expect(missing.code).not.toBe(0)
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'JOB_NOT_FOUND' } })
  })
})
