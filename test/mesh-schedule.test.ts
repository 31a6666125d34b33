import path from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { mediaDirFor, testPattern } from './fixtures/test-pattern.js'
import { startNode, type RunningNode } from '../packages/node/src/node.js'
import { startTestNodes, stopTestNodes, waitForJob, waitForMesh, type TestNode } from './helpers/in-process.js'
import { ffmesh, ffmeshJson, makeDataDir, waitUntil } from './helpers/node-harness.js'

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const media = mediaDirFor('ffm-ms-schedule-')
let nodes: TestNode[] = []

afterEach(async () => { await stopTestNodes(nodes); nodes = [] })


describe('a worker outside its schedule', () => {
  it('takes nothing while its window is closed, and its peers say until when', async () => {
    // A window two days from now (local time), all day: closed now, opening at that day's midnight.
    const now = new Date()
    const opens = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 2).getTime()
    const day = DAYS[new Date(opens).getDay()] as string
    const source = await testPattern(path.join(media(), 'night.mp4'), { seconds: 12 })
    nodes = await startTestNodes([
      { name: 'owner', slots: 0, segmentSeconds: 3 },
      {
        name: 'night-owl',
        segmentSeconds: 3,
        extra: { worker: { slots: 2, minFreeDisk: 0, schedule: [`${day} all`] } }
      },
      { name: 'day-worker', slots: 1, segmentSeconds: 3 }
    ])
    await waitForMesh(nodes)
    const [owner, night, day1] = nodes as [TestNode, TestNode, TestNode]
    const { id } = await owner.node.api.submit({
      source,
      profile: 'h264',
      outDir: path.join(media(), 'out'),
      handoff: false
    })
    const job = await waitForJob(owner, id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    // It had two free slots, more than the other: without its schedule it would have taken units.
    expect(new Set(job.units.map(u => u.worker))).toEqual(new Set([day1.node.peerId]))
    expect(
      owner.events.filter(
        e => e.peerId === night.node.peerId && (e.type === 'unit:leased' || e.type === 'peer:rejected')
      )
    ).toEqual([])

    const seen = (
      await ffmeshJson<Array<{ id: string; paused: boolean; nextWindow: number | null }>>(['peers'], {
        dataDir: owner.dataDir
      })
    ).find(p => p.id === night.node.peerId)
    expect(seen).toMatchObject({ paused: true, nextWindow: opens })
    expect((await ffmesh(['peers'], { dataDir: owner.dataDir })).stdout).toContain('outside its schedule until')
    const self = (await night.node.api.meshNodes())[0]
    expect(self).toMatchObject({ self: true, paused: true, draining: false, schedule: { open: false, next: opens } })
  })
})

describe('a pause survives a restart', () => {
  let node: RunningNode | undefined
  afterEach(async () => { await node?.stop(); node = undefined })

  it('comes back paused after a restart, and resume resumes', async () => {
    const dataDir = await makeDataDir({ name: 'restart', slots: 1 })
    const start = async (): Promise<RunningNode> => await startNode({ dataDir, logger: pino({ level: 'silent' }) })
    node = await start()
    const paused = await ffmeshJson<{ paused: boolean, pausedBy: string | null }>(['pause', '--drain'], { dataDir })
    expect(paused).toMatchObject({ paused: true, pausedBy: 'user' })
    await node.stop()
    node = await start()
    expect((await node.api.meshNodes())[0]).toMatchObject({ paused: true })
    // Its own job waits: the node still owns and plans it, but its worker takes nothing.
    const source = await testPattern(path.join(media(), 'own.mp4'), { seconds: 3 })
    const { id } = await node.api.submit({ source, profile: 'h264', outDir: path.join(media(), 'own-out') })
    await waitUntil(async () => node?.api.getJob(id).state === 'running', 'the job to be planned')
    expect(node.api.getJob(id).units.every(u => u.state === 'pending')).toBe(true)
    expect((await ffmesh(['resume'], { dataDir })).stdout).toMatch(/worker working/)
    const done = await waitUntil(
      async () => (node?.api.getJob(id).state === 'done' ? true : null),
      'the job to finish after resume',
      120_000
    )
    expect(done).toBe(true)
  })
})
