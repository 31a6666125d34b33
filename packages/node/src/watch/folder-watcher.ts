import { realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { watch as chokidarWatch, type FSWatcher } from 'chokidar'
import type { WatchConfig } from '../config/schema.js'
import { walkTree } from './walk-tree.js'
import type { Logger } from '../logger.js'
import { createSettleTracker, type FileShape } from './settle-tracker.js'
import { isIgnoredName, isInside, passesFilters, relativeToRoot } from './watch-filter.js'

/**
 * One watched folder: chokidar events → settle → candidate. It never acts on a deletion: when the
 * folder itself goes away (an unmounted disk) it pauses, polls, and rescans when it is back.
 */
export interface FolderWatcher {
  readonly state: 'active' | 'paused'
  readonly reason: string | null
  /** Real path of the folder (symlinks resolved) while active; sources must resolve inside it. */
  readonly realRoot: string
  /**
   * Files waiting to settle and new folders waiting to be walked; 0 once every file event so far
   * was handed on or dropped. Lets a caller (the tests) wait for the watcher instead of sleeping.
   */
  readonly pending: number
  /** Looks taken at the folder so far (start, polls, watcher errors): a caller can wait for a poll. */
  readonly checks: number
  start(): Promise<void>
  stop(): Promise<void>
}

export interface FolderWatcherInit {
  watch: WatchConfig
  logger: Logger
  pollMissingMs: number
  /** Skip the files already there when watching starts (the caller scans them itself). */
  ignoreInitial?: boolean
  /** Folders whose files are never candidates (every watch's output and moveTo folders). */
  excludedDirs: () => string[]
  onCandidate(file: string, shape: FileShape): void
  onPaused(reason: string): void
  onResumed(): void
}

/** The folder's identity (device and inode) when it is there, or why it is not. */
async function inspectFolder (
  dir: string
): Promise<{ identity: string; problem: null } | { identity: null; problem: string }> {
  try {
    const s = await stat(dir)
    if (s.isDirectory()) return { identity: `${s.dev}:${s.ino}`, problem: null }
    return { identity: null, problem: `${dir} is not a folder any more; waiting for it to come back` }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    return {
      identity: null,
      problem: `folder ${dir} is not reachable (${code}; an unmounted disk?); waiting for it to come back`
    }
  }
}

export function createFolderWatcher (init: FolderWatcherInit): FolderWatcher {
  const root = path.resolve(init.watch.path)
  const log = init.logger
  let state: 'active' | 'paused' = 'paused'
  let reason: string | null = 'not started'
  let realRoot = root
  let watchedIdentity: string | null = null
  let watcher: FSWatcher | null = null
  let poll: NodeJS.Timeout | null = null
  /** New folders waiting to be looked through (see sweepLater). */
  const sweeps = new Map<string, NodeJS.Timeout>()
  /** Sweeps walking now: their files are not observed yet, so the watcher is not done with them. */
  let walking = 0
  let checks = 0
  let stopped = false
  let transition: Promise<void> = Promise.resolve()

  const settle = createSettleTracker({
    settleMs: init.watch.settleSeconds * 1000,
    onSettled: (file, shape) => {
      init.onCandidate(file, shape)
    }
  })

  const ignored = (p: string): boolean => {
    const abs = path.resolve(p)
    if (abs === root) return false
    if (!isInside(root, abs)) return true
    if (init.excludedDirs().some((dir) => dir !== root && isInside(dir, abs))) return true
    return isIgnoredName(relativeToRoot(root, abs))
  }

  const onFileEvent = (p: string): void => {
    const abs = path.resolve(p)
    if (ignored(abs)) return
    if (!passesFilters(relativeToRoot(root, abs), init.watch.include, init.watch.exclude)) return
    settle.observe(abs)
  }

  // chokidar lists a folder that appears and only then watches it: a file moved into it between
  // the two raises no event (a folder made and filled at once, by a rename or a fast copy), and
  // would wait for the next rescan. So a new folder is walked once more after the settle time,
  // when its watch is long in place; what the watch already saw settles once (intake drops copies).
  const sweepLater = (dir: string): void => {
    if (!init.watch.recursive || ignored(dir)) return
    if ([...sweeps.keys()].some(pending => isInside(pending, dir))) return
    sweeps.set(dir, setTimeout(() => {
      sweeps.delete(dir)
      void sweep(dir)
    }, init.watch.settleSeconds * 1000))
  }

  const sweep = async (dir: string): Promise<void> => {
    walking++
    try {
      for await (const folder of walkTree(dir, init.excludedDirs())) {
        if (watcher == null) return
        for (const name of folder.names) onFileEvent(path.join(folder.dir, name))
      }
    } catch (err) {
      // Gone again, or unreadable: nothing in it to take.
      log.debug({ err, path: dir }, 'new folder not walked')
    } finally {
      walking--
    }
  }

  const openWatcher = async (): Promise<void> => {
    realRoot = await realpath(root)
    const w = chokidarWatch(root, {
      ignoreInitial: init.ignoreInitial ?? false,
      // Symlinks are looked at as links: a link to a file is checked at intake, a link to a
      // folder is not descended (it could lead anywhere, or loop).
      followSymlinks: false,
      depth: init.watch.recursive ? undefined : 0,
      ignored,
      persistent: true
    })
    w.on('add', onFileEvent)
    w.on('change', onFileEvent)
    w.on('unlink', (p) => { settle.forget(path.resolve(p)) })
    w.on('addDir', (p) => { if (watcher === w) sweepLater(path.resolve(p)) })
    w.on('unlinkDir', (p) => { if (path.resolve(p) === root) void checkFolder() })
    w.on('error', (err) => { log.warn({ err, path: root }, 'watcher error'); void checkFolder() })
    await new Promise<void>((resolve) => { w.once('ready', () => { resolve() }) })
    watcher = w
  }

  const closeWatcher = async (): Promise<void> => {
    settle.clear()
    for (const timer of sweeps.values()) clearTimeout(timer)
    sweeps.clear()
    const w = watcher
    watcher = null
    if (w != null) await w.close()
  }

  const pause = async (why: string): Promise<void> => {
    await closeWatcher()
    const changed = state === 'active' || why !== reason
    state = 'paused'
    reason = why
    if (!changed) return
    log.warn({ path: root, reason: why }, 'watched folder paused')
    init.onPaused(why)
  }

  const checkFolder = async (): Promise<void> => {
    transition = transition.then(async () => {
      if (stopped) return
      const { identity, problem } = await inspectFolder(root)
      if (problem != null) {
        await pause(problem)
        return
      }
      if (state === 'active' && identity === watchedIdentity) return
      if (state === 'active') {
        // Replaced between two polls (a disk unmounted and mounted again): the old watch sees
        // nothing any more, so watch the new folder and rescan it.
        await pause(`folder ${root} was replaced; rescanning`)
      }
      const wasPaused = reason !== 'not started'
      try {
        await openWatcher()
      } catch (err) {
        await closeWatcher()
        const why = `folder ${root} cannot be watched (${(err as Error).message}); retrying`
        if (reason !== why) { reason = why; init.onPaused(why) }
        return
      }
      state = 'active'
      reason = null
      watchedIdentity = identity
      log.info({ path: root }, wasPaused ? 'watched folder resumed' : 'watching folder')
      if (wasPaused) init.onResumed()
    }).catch((err: unknown) => { log.error({ err, path: root }, 'watched folder check failed') })
      .finally(() => { checks++ })
    await transition
  }

  return {
    get state () { return state },
    get reason () { return reason },
    get realRoot () { return realRoot },
    get pending () { return settle.pending + sweeps.size + walking },
    get checks () { return checks },
    async start () {
      stopped = false
      await checkFolder()
      poll = setInterval(() => { void checkFolder() }, init.pollMissingMs)
    },
    async stop () {
      stopped = true
      if (poll != null) clearInterval(poll)
      poll = null
      await transition
      await closeWatcher()
    }
  }
}
