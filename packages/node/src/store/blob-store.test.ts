import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createBlobStore } from './blob-store.js'
import type * as DurableFs from './durable-fs.js'

// Counts the syncs an import asks for; the real ones still run.
const synced = vi.hoisted(() => ({ files: [] as string[], dirs: [] as string[] }))
vi.mock('./durable-fs.js', async (original) => {
  const real = await original<typeof DurableFs>()
  return {
    ...real,
    fsyncFile: async (file: string) => { synced.files.push(file); await real.fsyncFile(file) },
    fsyncDir: async (dir: string) => { synced.dirs.push(dir); await real.fsyncDir(dir) }
  }
})

let root: string
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-blob-store-'))
  synced.files.length = 0
  synced.dirs.length = 0
})
afterEach(async () => { await fs.rm(root, { recursive: true, force: true }) })

async function importOne (durable: boolean | undefined): Promise<string> {
  const store = await createBlobStore({ dir: path.join(root, 'blobs'), tmpDir: path.join(root, 'tmp'), durable })
  const tmp = store.tempPath('.part')
  const bytes = Buffer.from('a piece of a video')
  await fs.writeFile(tmp, bytes)
  const { hash, size } = await store.importFile(tmp)
  expect(hash).toBe(createHash('sha512').update(bytes).digest('hex'))
  expect(size).toBe(bytes.length)
  expect(await fs.stat(tmp).then(() => 'left', () => 'moved')).toBe('moved')
  expect(await fs.readFile(store.path(hash))).toEqual(bytes)
  return store.path(hash)
}

describe('blob store imports', () => {
  it('a durable store (the default) syncs the file before its rename and the folder after', async () => {
    const dest = await importOne(undefined)
    expect(synced.files).toHaveLength(1)
    expect(synced.dirs).toEqual([path.dirname(dest)])
  })

  it('a scratch store (fetched inputs, emptied at every start) names the file by its hash without a sync', async () => {
    await importOne(false)
    expect(synced.files).toEqual([])
    expect(synced.dirs).toEqual([])
  })
})

describe('blob store pins', () => {
  it('keeps a pinned blob through a removal; once every pin is let go, a removal deletes it', async () => {
    const dest = await importOne(undefined)
    const store = await createBlobStore({ dir: path.join(root, 'blobs'), tmpDir: path.join(root, 'tmp') })
    const hash = path.basename(dest)
    const unpinA = store.pin(hash)
    const unpinB = store.pin(hash)
    await store.remove(hash)
    unpinA()
    unpinA()
    await store.remove(hash)
    expect(await store.has(hash)).toBe(true)
    unpinB()
    await store.remove(hash)
    expect(await store.has(hash)).toBe(false)
  })
})
