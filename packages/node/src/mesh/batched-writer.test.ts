import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createBatchedWriter } from './batched-writer.js'

describe('batched writer', () => {
  let dir: string
  beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-batch-')) })
  afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }) })

  it('writes only once a batch is full, then everything on flush, in order', async () => {
    const file = path.join(dir, 'out')
    const fh = await fs.open(file, 'w')
    const out = createBatchedWriter(fh, 10)
    const chunks = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6, 7), Uint8Array.of(8, 9, 10, 11), Uint8Array.of(12)]
    await out.write(chunks[0] as Uint8Array)
    await out.write(chunks[1] as Uint8Array)
    expect((await fs.stat(file)).size).toBe(0)
    await out.write(chunks[2] as Uint8Array)
    expect((await fs.stat(file)).size).toBe(11)
    await out.write(chunks[3] as Uint8Array)
    expect((await fs.stat(file)).size).toBe(11)
    await out.flush()
    await out.flush()
    await fh.close()
    expect([...await fs.readFile(file)]).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
  })

  it('fails on a short write instead of leaving a file with a hole in it', async () => {
    // A handle that takes only part of a batch, as a full disk could.
    const short = {
      writev: async (chunks: Uint8Array[]) => ({ bytesWritten: (chunks[0]?.byteLength ?? 0) - 1, buffers: chunks })
    }
    const out = createBatchedWriter(short as unknown as fs.FileHandle, 4)
    await expect(out.write(new Uint8Array(8))).rejects.toThrow('short write: 7 of 8 bytes')
  })
})
