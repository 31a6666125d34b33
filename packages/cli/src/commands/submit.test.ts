import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { followingFiles } from './submit.js'

let dir: string
beforeAll(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-following-')) })
afterAll(async () => { await fs.rm(dir, { recursive: true, force: true }) })

describe('what each request of a submission says follows it', () => {
  it('gives each file the count and bytes of the files after it, a missing file or a folder counting no bytes', async () => {
    const a = path.join(dir, 'a.mp4')
    const b = path.join(dir, 'b.mp4')
    await fs.writeFile(a, Buffer.alloc(100))
    await fs.writeFile(b, Buffer.alloc(250))
    expect(await followingFiles([a, path.join(dir, 'missing.mp4'), dir, b])).toEqual([
      { files: 3, bytes: 250 },
      { files: 2, bytes: 250 },
      { files: 1, bytes: 250 },
      { files: 0, bytes: 0 }
    ])
  })

  it('says nothing for a single file', async () => {
    expect(await followingFiles([path.join(dir, 'a.mp4')])).toEqual([undefined])
  })
})
