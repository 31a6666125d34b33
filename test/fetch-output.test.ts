import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { shortClip } from './fixtures/media.js'
import { startTestNodes, stopTestNodes, waitForJob, type TestNode } from './helpers/in-process.js'

let root: string
let nodes: TestNode[] = []

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-node-fetch-'))
  nodes = await startTestNodes([{ mesh: false }])
})

afterAll(async () => {
  await stopTestNodes(nodes)
  await fs.rm(root, { recursive: true, force: true })
})

/** The short clip converted on the node into `out` (under the test's root); its id and output. */
async function convertedInto (out: string): Promise<{ id: string, output: string }> {
  const solo = nodes[0] as TestNode
  const { id } = await solo.node.api.submit({ source: await shortClip(root), profile: 'h264', outDir: path.join(root, out) })
  const job = await waitForJob(solo, id)
  expect(job.state, JSON.stringify(job.error)).toBe('done')
  return { id, output: job.output as string }
}

describe('ffmesh fetch --out', () => {
  it('copies a done job\'s output whole into another folder, never over a file there, leaving no temp', async () => {
    const solo = nodes[0] as TestNode
    const { id, output } = await convertedInto('out')
    // Its own folder: the output itself, nothing copied.
    expect(await solo.node.api.fetchOutput(id, path.dirname(output))).toEqual({ path: output })

    const copies = path.join(root, 'copies')
    const first = await solo.node.api.fetchOutput(id, copies)
    const second = await solo.node.api.fetchOutput(id, copies)
    const name = path.basename(output)
    const ext = path.extname(name)
    expect(first.path).toBe(path.join(copies, name))
    expect(second.path).toBe(path.join(copies, `${name.slice(0, -ext.length)} (1)${ext}`))
    const bytes = await fs.readFile(output)
    for (const copy of [first.path, second.path]) expect((await fs.readFile(copy)).equals(bytes)).toBe(true)
    // Placed through a hidden temp that is gone once the copy is in place.
    expect((await fs.readdir(copies)).sort()).toEqual([path.basename(first.path), path.basename(second.path)].sort())
  })

  it('says OUTPUT_MISSING, not a folder problem, for a done job whose output was deleted since', async () => {
    const solo = nodes[0] as TestNode
    const { id, output } = await convertedInto('out-gone')
    await fs.rm(output)
    for (const outDir of [undefined, path.join(root, 'elsewhere')]) {
      await expect(solo.node.api.fetchOutput(id, outDir)).rejects.toMatchObject({
        code: 'OUTPUT_MISSING',
        message: expect.stringContaining(output)
      })
    }
    // Nothing was made for a copy that could not be.
    expect(await fs.stat(path.join(root, 'elsewhere')).then(() => true, () => false)).toBe(false)
  })
})
