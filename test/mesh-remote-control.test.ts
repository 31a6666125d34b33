import type { NodeControlState } from '@ffmesh/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestNodes, stopTestNodes, waitForMesh, type TestNode } from './helpers/in-process.js'
import { ffmesh, ffmeshJson, waitUntil } from './helpers/node-harness.js'

let nodes: TestNode[] = []
afterEach(async () => { await stopTestNodes(nodes); nodes = [] })

const pausedSeenBy = async (viewer: TestNode, peer: TestNode): Promise<boolean | undefined> =>
  (await ffmeshJson<Array<{ id: string; paused: boolean }>>(['peers'], { dataDir: viewer.dataDir })).find(
    p => p.id === peer.node.peerId
  )?.paused

describe('steering another node', () => {
  it('pauses and resumes a member by name; a pause made at the machine is undone only there; mesh.remoteControl: false refuses', async () => {
    nodes = await startTestNodes([
      { name: 'desk' },
      { name: 'media-box' },
      {
        name: 'private-box',
        extra: {
          mesh: {
            enabled: true,
            mdns: true,
            listen: ['/ip4/127.0.0.1/tcp/0'],
            advertiseSeconds: 1,
            remoteControl: false
          }
        }
      }
    ])
    await waitForMesh(nodes)
    const [desk, box, priv] = nodes as [TestNode, TestNode, TestNode]

    const paused = await ffmeshJson<NodeControlState>(['pause', '--drain', '--node', 'media-box'], {
      dataDir: desk.dataDir
    })
    expect(paused).toMatchObject({ paused: true, pausedBy: 'peer', pausedFrom: desk.node.peerId })
    expect((await box.node.api.meshNodes())[0]).toMatchObject({ self: true, paused: true })
    await waitUntil(async () => await pausedSeenBy(desk, box), 'the desk to hear that the box is paused')
    expect(box.events.find(e => e.type === 'node:paused')?.data).toMatchObject({ by: 'peer', from: desk.node.peerId })

    expect(
      await ffmeshJson<NodeControlState>(['resume', '--node', box.node.peerId], { dataDir: desk.dataDir })
    ).toMatchObject({ paused: false, pausedBy: null })

    // Paused at the box itself: the desk may not resume it, only the box.
    await ffmesh(['pause'], { dataDir: box.dataDir })
    const refused = await ffmesh(['resume', '--node', 'media-box', '--json'], { dataDir: desk.dataDir })
    expect(refused.code).not.toBe(0)
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'REMOTE_CONTROL_REFUSED' } })
    expect((await box.node.api.meshNodes())[0]).toMatchObject({ paused: true })
    // Pausing it again from elsewhere keeps it the box's own pause.
    expect(
      await ffmeshJson<NodeControlState>(['pause', '--node', 'media-box'], { dataDir: desk.dataDir })
    ).toMatchObject({ paused: true, pausedBy: 'user', pausedFrom: null })
    expect(await ffmeshJson<NodeControlState>(['resume'], { dataDir: box.dataDir })).toMatchObject({ paused: false })

    const closed = await ffmesh(['pause', '--node', 'private-box', '--json'], { dataDir: desk.dataDir })
    expect(JSON.parse(closed.stdout)).toMatchObject({ error: { code: 'REMOTE_CONTROL_REFUSED' } })
    expect((await priv.node.api.meshNodes())[0]).toMatchObject({ paused: false })
    const unknown = await ffmesh(['pause', '--node', 'no-such-box', '--json'], { dataDir: desk.dataDir })
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: 'PEER_UNREACHABLE' } })
  })
})
