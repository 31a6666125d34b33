import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { createMediaToolkit } from '../packages/node/src/media/index.js'
import { shortClip } from './fixtures/media.js'
import {
  startTestNodes,
  stopTestNodes,
  waitForJob,
  waitForMesh,
  type NodeHooks,
  type TestNode
} from './helpers/in-process.js'
import { waitUntil, type NodeSettings } from './helpers/node-harness.js'
import { paced } from './helpers/pace.js'

let media: string
let nodes: TestNode[] = []
beforeAll(async () => { media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-handoff-')) })
afterEach(async () => { await stopTestNodes(nodes); nodes = [] })
afterAll(async () => { await fs.rm(media, { recursive: true, force: true }) })

/** A laptop with no slots, which hands its jobs off, and a NAS that converts them, in one mesh. */
async function laptopAndNas (nas: Partial<NodeSettings> = {}, nasHooks: NodeHooks = {}): Promise<TestNode[]> {
  nodes = await startTestNodes([
    { name: 'laptop', slots: 0, segmentSeconds: 1 },
    { name: 'nas', slots: 1, segmentSeconds: 1, ...nas }
  ], [{}, nasHooks])
  await waitForMesh(nodes)
  return nodes
}

describe('submit and walk away', () => {
  it('a node with no slots hands the job to a peer and gets the verified output back', async () => {
    const [laptop, nas] = await laptopAndNas()
    const out = path.join(media, 'laptop-out')
    const { id } = await laptop.node.api.submit({ source: await shortClip(media), profile: 'h264', outDir: out })
    const job = await waitForJob(laptop, id, paced(120_000))
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    expect(job.owner).toBe(nas.node.peerId)
    expect(path.dirname(job.output as string)).toBe(out)
    expect(job.units.every(u => u.worker === nas.node.peerId)).toBe(true)
    // The new owner drops its copy once the submitter has the output.
    const onNas = nas.node.api.getJob(id)
    expect(onNas.state).toBe('done')
    await waitUntil(
      async () =>
        fs.stat(onNas.output as string).then(
          () => false,
          () => true
        ),
      'the owner to drop its copy',
      paced(20_000)
    )
  })

  it('one file handed off twice (two profiles): the first delivered leaves the second its source', async () => {
    const [laptop, nas] = await laptopAndNas()
    const clip = await shortClip(media)
    const out = path.join(media, 'twice-out')
    const ids = [
      (await laptop.node.api.submit({ source: clip, profile: 'h264', outDir: out })).id,
      (await laptop.node.api.submit({ source: clip, profile: 'h265', outDir: out })).id
    ]
    for (const id of ids) {
      const job = await waitForJob(laptop, id, paced(180_000))
      expect(job.state, JSON.stringify(job.error)).toBe('done')
      expect(nas.node.api.getJob(id).state).toBe('done')
    }
  })

  it('a handed-off job cancelled on its submitter stays cancelled; its new owner drops its copy', async () => {
    const [laptop, nas] = await laptopAndNas()
    const out = path.join(media, 'cancelled-out')
    const source = await shortClip(media)
    // Cancelled the moment the peer accepts: a short clip is soon converted.
    let id = ''
    const cancelled = new Promise<void>((resolve, reject) => {
      const off = laptop.node.api.onEvent(e => {
        if (e.jobId !== id || e.type !== 'job:running') return
        off()
        laptop.node.api.cancel(id).then(() => resolve(), reject)
      })
    })
    id = (await laptop.node.api.submit({ source, profile: 'h264', outDir: out })).id
    await cancelled
    expect(laptop.node.api.getJob(id)).toMatchObject({ state: 'cancelled', owner: nas.node.peerId })
    // Nothing tells the new owner to stop: it converts on, says the job ended, and is told to let it go.
    const onNas = await waitUntil(async () => {
      const job = nas.node.api.getJob(id)
      return job.state === 'done' ? job : null
    }, 'the new owner to finish', paced(120_000))
    await waitUntil(
      async () => fs.stat(onNas.output as string).then(() => false, () => true),
      'the new owner to drop its copy',
      paced(20_000)
    )
    expect(laptop.node.api.getJob(id).state).toBe('cancelled')
    expect(await fs.readdir(out).catch(() => [])).toEqual([])
  })

  it('a handed-off job that failed on its new owner and is retried on its submitter runs again there', async () => {
    // The new owner's first encode fails, and with one attempt a unit that fails the job there.
    let failOnce = true
    const failFirst: NodeHooks['media'] = runner => {
      const real = createMediaToolkit(runner)
      return {
        ...real,
        convertUnit: async (init, options) => {
          if (failOnce) {
            failOnce = false
            throw new FfmeshError(ErrorCodes.CONVERT_FAILED, 'a fault the test put in')
          }
          return await real.convertUnit(init, options)
        }
      }
    }
    const [laptop, nas] = await laptopAndNas({ extra: { jobs: { maxAttempts: 1 } } }, { media: failFirst })
    const out = path.join(media, 'retried-out')
    const { id } = await laptop.node.api.submit({ source: await shortClip(media), profile: 'h264', outDir: out })
    const failed = await waitForJob(laptop, id, paced(120_000))
    expect(failed).toMatchObject({ state: 'failed', owner: nas.node.peerId, error: { code: 'ATTEMPTS_EXHAUSTED' } })
    await laptop.node.api.retry(id)
    const done = await waitUntil(async () => {
      const job = laptop.node.api.getJob(id)
      return job.state === 'done' ? job : null
    }, 'the retried job done on its submitter', paced(120_000))
    expect(path.dirname(done.output as string)).toBe(out)
    expect(nas.node.api.getJob(id).state).toBe('done')
  })
})

