import { mkdtemp, open, rm, writeFile } from 'node:fs/promises'
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
import { paced } from './pace.js'

/**
 * Real folders, real LevelDB, real chokidar around a recording `submit` (test support for the
 * watch specs; the node's job store is not part of them). A file whose bytes start with MEDIA
 * is accepted, anything else is refused as SOURCE_NOT_MEDIA, as the real intake would.
 */
export interface Harness {
  dir: string
  db: Level<string, string>
  events: NodeEvent[]
  /** What `submit` was asked, with the bytes the source held at that moment. */
  submits: Array<{ source: string, profile: string, outDir: string, id: string, content: string }>
  nodeOutputs: Set<string>
  hashing: { now: number, max: number }
  watch(partial: Partial<WatchConfig> & { path: string }): WatchConfig
  manager(watches: WatchConfig[], pollMissingMs?: number): WatchManager
  endJob(job: EndedJob): void
  waitFor(what: string, predicate: () => boolean, timeoutMs?: number): Promise<void>
  /** Waits until `m` has decided every file its folders reported so far (WatchManager.idle). */
  waitIdle(m: WatchManager): Promise<void>
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
  const waitFor: Harness['waitFor'] = async (what, predicate, timeoutMs = paced(10_000)) => {
    const deadline = Date.now() + timeoutMs
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise(resolve => setTimeout(resolve, 25))
    }
  }
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
    submits.push({ ...req, id, content: bytes })
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
    waitFor,
    async waitIdle (m) {
      await waitFor('the watch to decide every file it saw', () => m.idle)
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

/**
 * Writes `pieces` to `file` one after another, `pauseMs` apart, as a slow copy does. Returns how
 * many quiet spells between two writes may have lasted `settleMs` or longer: the writer shares
 * the machine, and when it is stalled that long the file has rightly settled mid-write (each such
 * spell may add a submission). A spell is bounded by the earlier write's start and the later
 * one's end, as each write lands somewhere between the two.
 */
export async function writeInPieces (
  file: string,
  pieces: ReadonlyArray<string | Uint8Array>,
  pauseMs: number,
  settleMs: number
): Promise<number> {
  let lastStart = Date.now()
  const handle = await open(file, 'w')
  let stalls = 0
  try {
    for (const [i, piece] of pieces.entries()) {
      // The pause is the scenario (a copy that is still going), not a wait for the code under test.
      if (i > 0) await new Promise(resolve => setTimeout(resolve, pauseMs))
      const start = Date.now()
      await handle.write(typeof piece === 'string' ? Buffer.from(piece) : piece)
      if (Date.now() - lastStart >= settleMs) stalls++
      lastStart = start
    }
  } finally {
    await handle.close()
  }
  return stalls
}
