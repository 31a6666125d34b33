import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { placeFile, placementTemp, type Placement } from './place-file.js'

let dir: string
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-node-place-')) })
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }) })

const placement = (name: string): Placement => ({ dir, name, temp: placementTemp(dir, 'J1', 'fetch') })

describe('placeFile', () => {
  it('links the written file in beside what is there and records it while the temp still links it', async () => {
    await fs.writeFile(path.join(dir, 'out.mkv'), 'earlier')
    let linksAtRecord = 0
    const output = await placeFile(placement('out.mkv'), {
      write: async (tmp) => { await fs.writeFile(tmp, 'new') },
      record: async (placed) => { linksAtRecord = (await fs.stat(placed)).nlink }
    })
    expect(output).toBe(path.join(dir, 'out (1).mkv'))
    expect(await fs.readFile(path.join(dir, 'out.mkv'), 'utf8')).toBe('earlier')
    expect(await fs.readFile(output, 'utf8')).toBe('new')
    // Recorded while the temp was a second link: what a restart after a crash there recognises.
    expect(linksAtRecord).toBe(2)
    expect((await fs.readdir(dir)).sort()).toEqual(['out (1).mkv', 'out.mkv'])
  })

  it('places nothing and leaves no temp when the write fails', async () => {
    const failed = placeFile(placement('out.mkv'), {
      write: async (tmp) => {
        await fs.writeFile(tmp, 'half')
        throw Object.assign(new Error('no space'), { code: 'ENOSPC' })
      }
    })
    await expect(failed).rejects.toMatchObject({ code: 'ENOSPC' })
    expect(await fs.readdir(dir)).toEqual([])
  })

  it('removes the temp when the link places nothing', async () => {
    const output = await placeFile(placement('out.mkv'), {
      write: async (tmp) => { await fs.writeFile(tmp, 'too big') },
      link: async () => null
    })
    expect(output).toBeNull()
    expect(await fs.readdir(dir)).toEqual([])
  })

  it('writes nothing once its signal is aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    let wrote = false
    await expect(placeFile(placement('out.mkv'), { write: async () => { wrote = true } }, { signal: controller.signal }))
      .rejects.toThrow()
    expect(wrote).toBe(false)
  })
})
