import { createHash } from 'node:crypto'
import { watch } from 'node:fs'
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
import type { Ack, ResultPush } from './types.js'

describe('result protocol (real libp2p on loopback)', () => {
  let owner: TestMesh
  let worker: TestMesh
  const accepted: Array<{ peer: string, push: ResultPush, content: string }> = []
  /** The screen's answer by job id: a push of such a job is answered from its header. */
  const refusals = new Map<string, Ack>()

  beforeAll(async () => {
    const key = newSwarmKey()
    owner = await startTestMesh(key, meshConfig())
    worker = await startTestMesh(key, meshConfig({ bootstrap: owner.mesh.multiaddrs() }))
    await waitFor(() => worker.mesh.isConnected(owner.mesh.peerId), 'the worker to reach the owner')
    owner.mesh.serveResults(async (peer, push, tmpFile) => {
      expect(path.dirname(tmpFile)).toBe(owner.paths.tmp)
      accepted.push({ peer, push, content: await fs.readFile(tmpFile, 'utf8') })
      return { ok: true }
    }, async (_peer, push) => refusals.get(push.jobId) ?? null)
  })
  afterAll(async () => { await stopTestMesh(worker); await stopTestMesh(owner) })

  const makeResult = async (
    content: string,
    hashOf = content,
    jobId = '01JD0000000000000000000000'
  ): Promise<{ file: string, push: ResultPush }> => {
    const file = path.join(worker.dir, `out-${accepted.length}-${hashOf.length}.mkv`)
    await fs.writeFile(file, content)
    const hash = createHash('sha512').update(hashOf).digest('hex')
    return {
      file,
      push: {
        jobId,
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

  it('answers a push the screen refuses from its header: its bytes are read but never stored', async () => {
    const jobId = '01JD0000000000000000000001'
    refusals.set(jobId, { ok: false, code: 'NOT_GRANTED', message: 'this unit was never leased to you at that attempt' })
    const { file, push } = await makeResult('unwanted bytes '.repeat(400_000), undefined, jobId)
    const created: string[] = []
    await fs.mkdir(owner.paths.tmp, { recursive: true })
    const watcher = watch(owner.paths.tmp, (_event, name) => { if (name != null) created.push(name) })
    try {
      await expect(worker.mesh.pushResult(owner.mesh.peerId, push, file)).resolves.toMatchObject({
        ok: false,
        code: 'NOT_GRANTED'
      })
    } finally {
      watcher.close()
    }
    expect(created).toEqual([])
    expect(accepted).toHaveLength(1)
    // The refused push left the connection as it was: the next one goes through.
    const next = await makeResult('wanted bytes')
    await expect(worker.mesh.pushResult(owner.mesh.peerId, next.push, next.file)).resolves.toEqual({ ok: true })
  })
})
