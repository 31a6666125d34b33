import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { StatusClient } from '../mesh/status-protocol.js'
import type { Mesh } from '../mesh/types.js'
import { createMeshView, type MeshViewComponents } from './mesh-view.js'

const PEER = '12D3KooWRBy97UB99e3J6hiPesPDbGk8TFXbsbdfDkpNvVUpBQFY'

describe('steering another node', () => {
  it('says the node did not answer in time, with a code, when it stays busy past the deadline', async () => {
    let asked = 0
    // A peer that is starting: it answers every question with BUSY.
    const busy: StatusClient = {
      request: async () => { asked++; return { ok: false, code: 'BUSY', message: 'this node is starting' } },
      close: () => {}
    }
    const mesh = {
      peerId: '12D3KooWBcE2VFZkW9dWQfLKmUBuZy9f1bfrbAX7pwLrjL2G1uYq',
      knownPeers: () => [{ id: PEER, name: 'nas', online: true }],
      openStatus: async () => busy
    } as unknown as Pick<Mesh, 'peerId' | 'knownPeers' | 'openStatus'>
    const view = createMeshView({
      mesh,
      logger: pino({ level: 'silent' }),
      clock: Date.now,
      deadlineMs: 600
    } as unknown as MeshViewComponents)
    await expect(view.steer(PEER, { type: 'pause', drain: false })).rejects.toMatchObject({
      code: 'PEER_UNREACHABLE',
      message: expect.stringMatching(/did not answer the pause within 0\.6 s/)
    })
    expect(asked).toBeGreaterThan(1)
  })
})
