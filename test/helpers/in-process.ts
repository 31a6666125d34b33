import fs from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { startNode, type RunningNode, type StartNodeInit } from '../../packages/node/src/node.js'
import type { JobStatus, NodeEvent } from '@ffmesh/protocol'
import { makeDataDir, waitUntil, type NodeSettings } from './node-harness.js'
import { paced } from './pace.js'

/** Several full nodes in this process (real libp2p over TCP on loopback, real LevelDB and ffmpeg). */
export interface TestNode { node: RunningNode, dataDir: string, events: NodeEvent[] }

/** What a test changes inside a node: its fault hooks, or its ffmpeg operations. */
export type NodeHooks = Pick<StartNodeInit, 'testHooks' | 'media'>

/** Nodes share the first one's swarm key, or `swarmKeyFile` to join nodes started earlier. */
export async function startTestNodes (
  settings: NodeSettings[],
  hooks: NodeHooks[] = [],
  swarmKeyFile?: string
): Promise<TestNode[]> {
  const nodes: TestNode[] = []
  let keyFile = swarmKeyFile
  for (const [i, s] of settings.entries()) {
    const dataDir = await makeDataDir({ mesh: true, ...s }, keyFile)
    keyFile ??= path.join(dataDir, 'swarm.key')
    const node = await startNode({
      dataDir,
      logger: pino({ level: process.env.FFMESH_TEST_LOG ?? 'silent' }),
      ...hooks[i]
    })
    const events: NodeEvent[] = []
    node.api.onEvent(e => events.push(e))
    nodes.push({ node, dataDir, events })
  }
  return nodes
}

export async function stopTestNodes (nodes: TestNode[]): Promise<void> {
  await Promise.all(nodes.map(n => n.node.stop().catch(() => {})))
  await Promise.all(nodes.map(n => fs.rm(n.dataDir, { recursive: true, force: true })))
}

/** Waits until every node sees all the others in its capacity table. */
export async function waitForMesh (nodes: TestNode[], timeoutMs = paced(60_000)): Promise<void> {
  await waitUntil(async () => nodes.every(n => {
    const seen = new Set(n.node.api.peers().map(p => p.id))
    return nodes.every(o => o === n || seen.has(o.node.peerId))
  }), 'the nodes to see each other', timeoutMs)
}

export async function waitForJob (owner: TestNode, id: string, timeoutMs = paced(300_000)): Promise<JobStatus> {
  return waitUntil(async () => {
    const s = owner.node.api.getJob(id)
    return ['done', 'failed', 'cancelled', 'skipped'].includes(s.state) ? s : null
  }, `job ${id} to end`, timeoutMs)
}
