import { EventEmitter } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { WatchSchema } from '@ffmesh/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { paced } from '../../../../test/helpers/pace.js'
import { createLogger } from '../logger.js'
import { createFolderWatcher, type FolderWatcher } from './folder-watcher.js'

// A stand-in for chokidar that reports only what a test tells it to: it can lose a file the way
// chokidar does when one lands in a new folder between its listing and its watch.
const fake = vi.hoisted(() => ({ watchers: [] as Array<EventEmitter & { close(): Promise<void> }> }))
vi.mock('chokidar', () => ({
  watch: () => {
    const w = Object.assign(new EventEmitter(), { close: async () => {} })
    fake.watchers.push(w)
    setImmediate(() => w.emit('ready'))
    return w
  }
}))

let dir: string
let watcher: FolderWatcher | null = null
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-folder-watcher-'))
  fake.watchers.length = 0
})
afterEach(async () => {
  await watcher?.stop()
  watcher = null
  await rm(dir, { recursive: true, force: true })
})

function start (root: string, settleSeconds: number, excluded: string[] = []): { candidates: string[] } {
  const candidates: string[] = []
  watcher = createFolderWatcher({
    watch: WatchSchema.parse({ path: root, profile: 'p', output: path.join(dir, 'out'), settleSeconds }),
    logger: createLogger({ level: 'silent' }),
    pollMissingMs: 60_000,
    ignoreInitial: true,
    excludedDirs: () => excluded,
    onCandidate: file => { candidates.push(path.relative(root, file)) },
    onPaused: () => {},
    onResumed: () => {}
  })
  return { candidates }
}

async function until (what: string, predicate: () => boolean): Promise<void> {
  for (const deadline = Date.now() + paced(10_000); !predicate();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('a folder watcher', () => {
  it('walks a new folder once it has settled, taking files the notifications missed', async () => {
    const root = path.join(dir, 'in')
    const { candidates } = start(root, 0.05, [path.join(root, 'out')])
    await mkdir(root)
    await watcher?.start()
    const w = fake.watchers[0]
    if (w == null) throw new Error('no watch opened')
    await mkdir(path.join(root, 'season/extras'), { recursive: true })
    await mkdir(path.join(root, 'out'))
    await writeFile(path.join(root, 'season/e1.mkv'), 'x')
    await writeFile(path.join(root, 'season/extras/e2.mkv'), 'x')
    await writeFile(path.join(root, 'season/.hidden.mkv'), 'x')
    await writeFile(path.join(root, 'out/done.mkv'), 'x')
    // The folders are announced, the files in them never are.
    w.emit('addDir', path.join(root, 'season'))
    w.emit('addDir', path.join(root, 'season/extras'))
    w.emit('addDir', path.join(root, 'out'))
    await until('both files', () => candidates.length === 2)
    expect(candidates.sort()).toEqual(['season/e1.mkv', 'season/extras/e2.mkv'])
  })
})
