import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileSizes, followingFiles, largestFirst } from './submit.js'

let dir: string
beforeAll(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-following-')) })
afterAll(async () => { await fs.rm(dir, { recursive: true, force: true }) })

describe('the order a submission of several files goes in', () => {
  it('reads each size, a missing file or a folder counting no bytes', async () => {
    const a = path.join(dir, 'a.mp4')
    const b = path.join(dir, 'b.mp4')
    await fs.writeFile(a, Buffer.alloc(100))
    await fs.writeFile(b, Buffer.alloc(250))
    expect(await fileSizes([a, path.join(dir, 'missing.mp4'), dir, b])).toEqual([100, 0, 0, 250])
  })

  it('sends the largest first, equal sizes in the order given', () => {
    expect(largestFirst([100, 0, 250, 100, 0])).toEqual([2, 0, 3, 1, 4])
    expect(largestFirst([])).toEqual([])
  })

  it('gives each file the count and bytes of the files after it in that order', () => {
    expect(followingFiles([250, 100, 0, 0])).toEqual([
      { files: 3, bytes: 100 },
      { files: 2, bytes: 0 },
      { files: 1, bytes: 0 },
      { files: 0, bytes: 0 }
    ])
  })

  it('says nothing for a single file', () => {
    expect(followingFiles([100])).toEqual([undefined])
  })
})
