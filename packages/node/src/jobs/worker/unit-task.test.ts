import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { ErrorCodes, FfmeshError, type BlobRef, type UnitSpec } from '@ffmesh/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../logger.js'
import { createBlobStore } from '../../store/blob-store.js'
import type { JobComponents } from '../shared/deps.js'
import { failureCode, inputInUseBy, runUnitTask, UnitRefusal, type TaskDeps, type UnitTask } from './unit-task.js'

describe('the wire code a worker gives back a unit with', () => {
  it('says the owner is unreachable, not that the unit failed, when its blob stream cannot be opened', () => {
    expect(failureCode(new FfmeshError(ErrorCodes.PEER_UNREACHABLE, 'cannot open a blob stream'))).toBe(
      'OWNER_UNREACHABLE'
    )
  })

  it('keeps refusals, timeouts and convert failures apart, and calls anything else GENERIC', () => {
    expect(failureCode(new UnitRefusal('DISK_FULL', 'full'))).toBe('DISK_FULL')
    expect(failureCode(new FfmeshError(ErrorCodes.CONVERT_TIMEOUT, 'slow'))).toBe('TIMEOUT')
    expect(failureCode(new FfmeshError(ErrorCodes.CONVERT_FAILED, 'bad'))).toBe('CONVERT_FAILED')
    expect(failureCode(new Error('other'))).toBe('GENERIC')
  })
})

describe('a remote unit\'s inputs on the worker', () => {
  const dirs: string[] = []
  afterEach(async () => { await Promise.all(dirs.splice(0).map(d => fs.rm(d, { recursive: true, force: true }))) })

  /** A worker's stand-in parts around a real store of fetched blobs; `fetchBlob` writes as the transfer does. */
  async function workerParts (
    fetchBlob: (ref: BlobRef, dest: string) => Promise<void>,
    beforeConvert: (inputs: string[]) => Promise<void> = async () => {}
  ) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-unit-task-'))
    dirs.push(dir)
    const fetched = await createBlobStore({ dir: path.join(dir, 'fetched'), tmpDir: path.join(dir, 'tmp'), durable: false })
    const tasks = new Set<UnitTask>()
    const c = {
      mesh: { peerId: 'this-worker', fetchBlob: async (_owner: string, ref: BlobRef, dest: string) => await fetchBlob(ref, dest) },
      fetched,
      blobs: fetched,
      disk: { refresh: async () => {}, dataDir: () => ({ free: 1e12, full: false }) },
      config: { worker: { minFreeDisk: 0, convertTimeoutScale: 1 } },
      logger: createLogger({ level: 'silent' }),
      media: {
        unitOutputExtension: () => '.mkv',
        convertTimeoutMs: () => 60_000,
        convertUnit: async ({ inputs, outFile }: { inputs: string[], outFile: string }) => {
          await beforeConvert(inputs)
          await fs.writeFile(outFile, 'converted')
          return { frames: 1, durationSec: 1 }
        }
      }
    } as unknown as JobComponents
    const deps: TaskDeps = {
      slots: { acquire: async () => () => {} } as unknown as TaskDeps['slots'],
      threads: 1,
      audioBeside: true,
      acceptLocal: async () => ({ ok: true }),
      deliverRemote: async () => ({ ok: true }),
      inputInUse: (hash, except) => inputInUseBy(tasks, hash, except),
      promised: () => 0,
      heartbeat: () => {}
    }
    const run = async (task: UnitTask): Promise<void> => {
      tasks.add(task)
      try { await runUnitTask(c, deps, task) } finally { tasks.delete(task) }
    }
    const left = async (): Promise<string[]> =>
      (await fs.readdir(dir, { recursive: true, withFileTypes: true })).filter(e => e.isFile()).map(e => e.name)
    return { run, left }
  }

  /** A promise the test opens when it wants. */
  const gate = (): { open: () => void, opened: Promise<void> } => {
    let open = (): void => {}
    const opened = new Promise<void>(resolve => { open = resolve })
    return { open, opened }
  }
  /** Waits for a condition the test's own stand-ins make true, looking again at each turn of the event loop. */
  const until = async (ok: () => Promise<boolean>): Promise<void> => {
    while (!await ok()) await new Promise(resolve => setImmediate(resolve))
  }
  const piece = (text: string): BlobRef & { text: string } =>
    ({ hash: createHash('sha512').update(text).digest('hex'), size: text.length, text })
  const task = (...inputs: BlobRef[]): UnitTask => ({
    owner: 'the-owner',
    spec: { jobId: '01JD0000000000000000000000', index: 0, kind: 'segment', inputs, durationSec: 1 } as unknown as UnitSpec,
    attempt: 1,
    expectedOutputBytes: 10,
    abort: new AbortController(),
    phase: 'fetching',
    progress: 0
  })
  const transfer = (pieces: Array<BlobRef & { text: string }>) => async (ref: BlobRef, dest: string) => {
    await fs.writeFile(dest, (pieces.find(p => p.hash === ref.hash) as { text: string }).text)
  }

  it('leaves nothing behind when a fetch fails midway: neither its partial file nor the inputs fetched before it', async () => {
    const first = piece('the pre-roll piece')
    const second = piece('the unit\'s own piece')
    const w = await workerParts(async (ref, dest) => {
      if (ref.hash === first.hash) return await transfer([first])(ref, dest)
      // What the blob transfer leaves when the disk fills: the bytes so far, for a resume.
      await fs.writeFile(`${dest}.part`, 'the unit\'s o')
      throw new FfmeshError(ErrorCodes.DISK_FULL, 'no space left on device')
    })
    await expect(w.run(task(first, second))).rejects.toMatchObject({ code: ErrorCodes.DISK_FULL })
    expect(await w.left()).toEqual([])
  })

  it('removes a piece two units share once the last of them ends, whichever fetched it', async () => {
    const shared = piece('piece 4, the pre-roll of unit 5')
    const own = piece('piece 5')
    // Unit 5 finds piece 4 as unit 4 fetched it, and is still fetching its own piece when unit 4 ends.
    const unit5Fetching = gate()
    const unit4Ended = gate()
    const w = await workerParts(
      async (ref, dest) => {
        if (ref.hash === own.hash) {
          unit5Fetching.open()
          await unit4Ended.opened
        }
        await transfer([shared, own])(ref, dest)
      },
      async inputs => { if (inputs.length === 1) await unit5Fetching.opened }
    )
    const unit4 = w.run(task(shared))
    const unit5 = (async () => {
      // Once unit 4 holds piece 4, not before: unit 5 must find it there rather than fetch it too.
      await until(async () => (await w.left()).includes(shared.hash))
      await w.run(task(shared, own))
    })()
    await unit4
    unit4Ended.open()
    await unit5
    expect(await w.left()).toEqual([])
  })

  it('removes a shared piece when both units end at once (a pause gives both back)', async () => {
    const shared = piece('piece 4, the pre-roll of unit 5')
    const own = piece('piece 5')
    let converting = 0
    const bothConverting = gate()
    const w = await workerParts(transfer([shared, own]), async () => {
      if (++converting === 2) bothConverting.open()
      await bothConverting.opened
      throw new FfmeshError(ErrorCodes.JOB_CANCELLED, 'given back')
    })
    const unit4 = w.run(task(shared))
    await until(async () => (await w.left()).includes(shared.hash))
    const results = await Promise.allSettled([unit4, w.run(task(shared, own))])
    expect(results.map(r => r.status)).toEqual(['rejected', 'rejected'])
    expect(await w.left()).toEqual([])
  })
})
