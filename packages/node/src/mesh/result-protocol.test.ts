import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  meshConfig,
  newSwarmKey,
  startTestMesh,
  stopTestMesh,
  waitFor,
  type TestMesh
} from '../../../../test/helpers/mesh-fixtures.js'
import type { ResultPush } from './types.js'

describe('result protocol (real libp2p on loopback)', () => {
  let owner: TestMesh
  let worker: TestMesh
  const accepted: Array<{ peer: string, push: ResultPush, content: string }> = []

  beforeAll(async () => {
    const key = newSwarmKey()
    owner = await startTestMesh(key, meshConfig())
    worker = await startTestMesh(key, meshConfig({ bootstrap: owner.mesh.multiaddrs() }))
    await waitFor(() => worker.mesh.isConnected(owner.mesh.peerId), 'the worker to reach the owner')
    owner.mesh.serveResults(async (peer, push, tmpFile) => {
      expect(path.dirname(tmpFile)).toBe(owner.paths.tmp)
      accepted.push({ peer, push, content: await fs.readFile(tmpFile, 'utf8') })
      return { ok: true }
    })
  })
  afterAll(async () => { await stopTestMesh(worker); await stopTestMesh(owner) })

  const makeResult = async (content: string, hashOf = content): Promise<{ file: string, push: ResultPush }> => {
    const file = path.join(worker.dir, `out-${accepted.length}-${hashOf.length}.mkv`)
    await fs.writeFile(file, content)
    const hash = createHash('sha512').update(hashOf).digest('hex')
    return {
      file,
      push: {
        jobId: '01JD0000000000000000000000',
        index: 2,
        hash,
        size: Buffer.byteLength(content),
        frames: 48,
        durationSec: 2,
        attempt: 1
      }
    }
  }

  it('pushes a result that the owner checks and acks', async () => {
    const { file, push } = await makeResult('converted bytes '.repeat(100_000))
    await expect(worker.mesh.pushResult(owner.mesh.peerId, push, file)).resolves.toEqual({ ok: true })
    expect(accepted).toHaveLength(1)
    expect(accepted[0]).toMatchObject({ peer: worker.mesh.peerId, push })
    expect(accepted[0].content).toBe(await fs.readFile(file, 'utf8'))
    expect(await fs.readdir(owner.paths.tmp)).toEqual([])
  })

  it('refuses a push whose bytes do not match its hash, without calling the acceptor', async () => {
    const { file, push } = await makeResult('aaaa-tampered', 'aaaa-original')
    await expect(worker.mesh.pushResult(owner.mesh.peerId, push, file)).resolves.toMatchObject({
      ok: false,
      code: 'HASH_MISMATCH'
    })
    expect(accepted).toHaveLength(1)
    expect(owner.mesh.stats().results.refused).toBe(1)
    expect(await fs.readdir(owner.paths.tmp)).toEqual([])
  })
})
