import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Level } from 'level'
import { ErrorCodes, FfmeshError, WatchSchema, type NodeEvent, type WatchConfig } from '@ffmesh/protocol'
import { createEventBus } from '../../packages/node/src/events.js'
import { createLogger } from '../../packages/node/src/logger.js'
import { hashFile } from '../../packages/node/src/store/hash.js'
import {
  createWatchManager,
  type EndedJob,
  type WatchManager
} from '../../packages/node/src/watch/watch-manager.js'

/**
 * Real folders, real LevelDB, real chokidar around a recording `submit` (test support for the
 * watch specs; the node's job store is not part of them). A file whose bytes start with MEDIA
 * is accepted, anything else is refused as SOURCE_NOT_MEDIA, as the real intake would.
 */
export interface Harness {
  dir: string
  db: Level<string, string>
  events: NodeEvent[]
  submits: Array<{ source: string, profile: string, outDir: string, id: string }>
  nodeOutputs: Set<string>
  hashing: { now: number, max: number }
  watch(partial: Partial<WatchConfig> & { path: string }): WatchConfig
  manager(watches: WatchConfig[], pollMissingMs?: number): WatchManager
  endJob(job: EndedJob): void
  waitFor(what: string, predicate: () => boolean, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

export const media = (label: string): string => `MEDIA ${label}\n`

export async function createHarness (): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-watch-'))
  const db = new Level<string, string>(path.join(dir, 'db'))
  await db.open()
  const bus = createEventBus()
  const events: NodeEvent[] = []
  bus.on((e) => { events.push(e) })
  const submits: Harness['submits'] = []
  const listeners = new Set<(job: EndedJob) => void>()
  const nodeOutputs = new Set<string>()
  const hashing = { now: 0, max: 0 }
  const managers: WatchManager[] = []
  let nextId = 1

  const submit = async (req: { source: string, profile: string, outDir: string }): Promise<{ id: string }> => {
    const { readFile } = await import('node:fs/promises')
    const bytes = await readFile(req.source, 'utf8')
    if (!bytes.startsWith('MEDIA')) {
      throw new FfmeshError(ErrorCodes.SOURCE_NOT_MEDIA, `${req.source} holds no audio, video or image stream`)
    }
    const id = `job-${nextId++}`
    submits.push({ ...req, id })
    return { id }
  }

  return {
    dir,
    db,
    events,
    submits,
    nodeOutputs,
    hashing,
    watch: partial =>
      WatchSchema.parse({ profile: 'h264', output: path.join(dir, 'out'), settleSeconds: 0.3, ...partial }),
    manager (watches, pollMissingMs = 200) {
      const m = createWatchManager(
        {
          logger: createLogger({ level: process.env.WATCH_TEST_LOG ?? 'silent' }),
          events: bus,
          db,
          submit,
          onJobEnded: l => {
            listeners.add(l)
            return () => {
              listeners.delete(l)
            }
          },
          isNodeOutput: f => nodeOutputs.has(f),
          hashFile: async (f, o) => {
            hashing.now++
            hashing.max = Math.max(hashing.max, hashing.now)
            try {
              return await hashFile(f, o)
            } finally {
              hashing.now--
            }
          }
        },
        { watches, pollMissingMs }
      )
      managers.push(m)
      return m
    },
    endJob (job) {
      for (const l of listeners) l(job)
    },
    async waitFor (what, predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        await new Promise(resolve => setTimeout(resolve, 25))
      }
    },
    async close () {
      for (const m of managers) await m.stop()
      await db.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export async function put (file: string, content: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises')
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, content)
  return file
}

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
