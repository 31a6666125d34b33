import fs from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes } from '@ffmesh/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashFile } from '../store/hash.js'
import {
  meshConfig,
  newSwarmKey,
  startTestMesh,
  stopTestMesh,
  waitFor,
  writeRandomFile,
  type TestMesh
} from '../../../../test/helpers/mesh-fixtures.js'

const SIZE = 50 * 1024 * 1024

describe('blob protocol (real libp2p on loopback)', () => {
  let owner: TestMesh
  let worker: TestMesh
  let source: string
  let hash: string
  const corruptOnce = new Set<string>()

  beforeAll(async () => {
    const key = newSwarmKey()
    owner = await startTestMesh(key, meshConfig(), { testHooks: { corruptBlobByte: h => corruptOnce.delete(h) } })
    worker = await startTestMesh(key, meshConfig({ bootstrap: owner.mesh.multiaddrs() }))
    await waitFor(() => worker.mesh.isConnected(owner.mesh.peerId), 'the worker to reach the owner via bootstrap')
    source = path.join(owner.dir, 'source.bin')
    hash = await writeRandomFile(source, SIZE)
    owner.mesh.serveBlobs(async (peer, h) => (peer === worker.mesh.peerId && h === hash ? source : null))
  })
  afterAll(async () => { await stopTestMesh(worker); await stopTestMesh(owner) })

  it('fetches a 50 MB blob, verified by SHA-512', async () => {
    const dest = path.join(worker.dir, 'a.bin')
    let progress = 0
    await worker.mesh.fetchBlob(owner.mesh.peerId, { hash, size: SIZE }, dest, { onProgress: b => { progress = b } })
    expect(progress).toBe(SIZE)
    expect(await hashFile(dest)).toBe(hash)
    await expect(fs.stat(dest + '.part')).rejects.toThrow()
  })

  it('resumes a broken transfer from the bytes already on disk', async () => {
    const dest = path.join(worker.dir, 'b.bin')
    const controller = new AbortController()
    await expect(worker.mesh.fetchBlob(owner.mesh.peerId, { hash, size: SIZE }, dest, {
      signal: controller.signal,
      onProgress: b => { if (b > 20 * 1024 * 1024) controller.abort(new Error('cut')) }
    })).rejects.toThrow()
    const partial = (await fs.stat(dest + '.part')).size
    expect(partial).toBeGreaterThan(20 * 1024 * 1024)
    expect(partial).toBeLessThan(SIZE)

    const servedBefore = owner.mesh.stats().blob.bytesServed
    await worker.mesh.fetchBlob(owner.mesh.peerId, { hash, size: SIZE }, dest)
    expect(owner.mesh.stats().blob.bytesServed - servedBefore).toBe(SIZE - partial)
    expect(worker.mesh.stats().blob.resumes).toBeGreaterThanOrEqual(1)
    expect(await hashFile(dest)).toBe(hash)
  })

  it('catches a byte flipped in flight and fetches again', async () => {
    const dest = path.join(worker.dir, 'c.bin')
    corruptOnce.add(hash)
    const mismatchesBefore = worker.mesh.stats().blob.hashMismatches
    await worker.mesh.fetchBlob(owner.mesh.peerId, { hash, size: SIZE }, dest)
    expect(corruptOnce.size).toBe(0)
    expect(worker.mesh.stats().blob.hashMismatches - mismatchesBefore).toBe(1)
    expect(await hashFile(dest)).toBe(hash)
  })

  it('gives up with HASH_MISMATCH when every copy is corrupt, and refuses unknown blobs', async () => {
    const dest = path.join(worker.dir, 'd.bin')
    const always = 'ff'.repeat(64)
    await expect(worker.mesh.fetchBlob(owner.mesh.peerId, { hash: always, size: 10 }, dest))
      .rejects.toMatchObject({ code: ErrorCodes.TRANSFER_FAILED, details: { wireCode: 'NOT_FOUND' } })
    const small = path.join(owner.dir, 'small.bin')
    await fs.writeFile(small, 'hello')
    owner.mesh.serveBlobs(async () => small)
    await expect(worker.mesh.fetchBlob(owner.mesh.peerId, { hash: always, size: 5 }, dest))
      .rejects.toMatchObject({ code: ErrorCodes.HASH_MISMATCH })
    await expect(fs.stat(dest)).rejects.toThrow()
    await expect(fs.stat(dest + '.part')).rejects.toThrow()
  })
})
