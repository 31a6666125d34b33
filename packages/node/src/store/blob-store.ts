import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { HASH_PATTERN } from '@ffmesh/protocol'
import { hashFile } from './hash.js'
import { crashPoint } from './crash-point.js'
import { fsyncDir, fsyncFile } from './durable-fs.js'

/**
 * Content-addressed blob files: `blobs/<2 hex>/<sha512>`. A blob only ever appears complete:
 * written to tmp, hashed, fsynced (unless the store is scratch: BlobStoreInit.durable), then
 * renamed. Names come from hashes checked against HASH_PATTERN, never from the network as paths.
 */
export interface BlobStore {
  path(hash: string): string
  has(hash: string): Promise<boolean>
  /** A fresh temp path in the store's tmp dir (same file system, so rename is atomic). */
  tempPath(suffix?: string): string
  /** Moves a finished file into the store under its SHA-512 (computed unless given and trusted). */
  importFile(file: string, options?: ImportOptions): Promise<{ hash: string, size: number }>
  /** Deletes the blob, unless it is pinned. */
  remove(hash: string): Promise<void>
  /**
   * Keeps `remove` off a blob until the returned function is called: for work that stores a blob
   * before the log names it (a handoff's source, between its import and its job's record), which
   * another job's clean-up of the same content would otherwise delete under it.
   */
  pin(hash: string): () => void
  /** Removes leftover temp files of an earlier run. */
  sweepTemp(): Promise<number>
  /**
   * Removes blobs the log does not name (stored just before a crash, never recorded); call before
   * any work starts. With `after`, only blobs written later than that time: older ones may belong
   * to records a damaged log lost.
   */
  sweepUnreferenced(referenced: ReadonlySet<string>, options?: { after?: number }): Promise<number>
}

export interface ImportOptions {
  hash?: string
  signal?: AbortSignal
  /** Marks the import of a unit result, where the fault tests may inject a crash (crash-point.ts). */
  unitResult?: boolean
}

export function assertHash (hash: string): void {
  if (!HASH_PATTERN.test(hash)) throw new TypeError('not a SHA-512 hex digest')
}

export interface BlobStoreInit {
  dir: string
  tmpDir: string
  /**
   * Whether an import survives a power cut: fsync of the file before its rename and of its folder
   * after. True by default. A store emptied at every start (a worker's fetched inputs) skips both:
   * a crash loses nothing the syncs would have kept, and a slow disk is spared writing every
   * input through before its conversion starts.
   */
  durable?: boolean
}

export async function createBlobStore (init: BlobStoreInit): Promise<BlobStore> {
  const durable = init.durable ?? true
  await fs.mkdir(init.dir, { recursive: true, mode: 0o700 })
  await fs.mkdir(init.tmpDir, { recursive: true, mode: 0o700 })
  const blobPath = (hash: string): string => {
    assertHash(hash)
    return path.join(init.dir, hash.slice(0, 2), hash)
  }
  const pins = new Map<string, number>()
  return {
    path: blobPath,
    async has (hash) {
      return fs.stat(blobPath(hash)).then(s => s.isFile(), () => false)
    },
    tempPath (suffix = '') {
      return path.join(init.tmpDir, `${Date.now()}-${randomBytes(6).toString('hex')}${suffix}`)
    },
    async importFile (file, options = {}) {
      const crash = options.unitResult === true ? crashPoint : () => {}
      crash('result-after-temp-write')
      const hash = options.hash ?? await hashFile(file, options)
      const dest = blobPath(hash)
      const { size } = await fs.stat(file)
      if (durable) await fsyncFile(file)
      crash('result-after-fsync')
      await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 })
      await fs.rename(file, dest)
      crash('result-after-rename')
      if (durable) await fsyncDir(path.dirname(dest))
      return { hash, size }
    },
    async remove (hash) {
      if ((pins.get(hash) ?? 0) > 0) return
      await fs.rm(blobPath(hash), { force: true })
    },
    pin (hash) {
      assertHash(hash)
      pins.set(hash, (pins.get(hash) ?? 0) + 1)
      let held = true
      return () => {
        if (!held) return
        held = false
        const left = (pins.get(hash) ?? 1) - 1
        if (left > 0) pins.set(hash, left)
        else pins.delete(hash)
      }
    },
    async sweepUnreferenced (referenced, options = {}) {
      let removed = 0
      for (const entry of await fs.readdir(init.dir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !HASH_PATTERN.test(entry.name) || referenced.has(entry.name)) continue
        const file = path.join(entry.parentPath, entry.name)
        if (options.after != null && (await fs.stat(file)).mtimeMs <= options.after) continue
        await fs.rm(file, { force: true })
        removed++
      }
      return removed
    },
    async sweepTemp () {
      const names = await fs.readdir(init.tmpDir)
      await Promise.all(names.map(n => fs.rm(path.join(init.tmpDir, n), { recursive: true, force: true })))
      return names.length
    }
  }
}
