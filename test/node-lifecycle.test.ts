import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { startNode } from '../packages/node/src/node.js'
import { makeDataDir } from './helpers/node-harness.js'

const roots: string[] = []
afterAll(async () => { await Promise.all(roots.map(r => fs.rm(r, { recursive: true, force: true }))) })

describe('a node started and stopped in this process', () => {
  it('removes every handler its parts registered on the event bus, the job bus and the mesh', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-node-lifecycle-'))
    roots.push(root)
    const watched = path.join(root, 'watched')
    const library = path.join(root, 'library')
    await fs.mkdir(watched)
    await fs.mkdir(library)
    // Every part that registers a handler runs: the mesh on loopback, the dashboard, a watched
    // folder and a library.
    const dataDir = await makeDataDir({
      dir: path.join(root, 'data'),
      mesh: true,
      mdns: false,
      ui: { enabled: true, listen: '127.0.0.1:0' },
      extra: {
        watch: [{ path: watched, profile: 'h264', output: path.join(root, 'out') }],
        libraries: [{ path: library, profiles: { video: 'h264' }, output: path.join(root, 'library-out') }]
      }
    })
    const node = await startNode({ dataDir, logger: pino({ level: process.env.FFMESH_TEST_LOG ?? 'silent' }) })
    let stopped = false
    try {
      const running = node.listeners()
      // What stop must undo: the owner, the handoff and the watches on the event bus, the router on
      // the job bus, the job bus and the result hold on the mesh.
      expect(running.events).toBeGreaterThanOrEqual(3)
      expect(running.jobBus).toBeGreaterThanOrEqual(1)
      expect(running.mesh).toBeGreaterThanOrEqual(2)
      expect(node.api.info().dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
      await node.stop()
      stopped = true
      expect(node.listeners()).toEqual({ events: 0, jobBus: 0, mesh: 0 })
    } finally {
      if (!stopped) await node.stop()
    }
  })
})
