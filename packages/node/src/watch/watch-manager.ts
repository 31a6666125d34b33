import type { Level } from 'level'
import { ErrorCodes, FfmeshError, type WatchStatus } from '@ffmesh/protocol'
import type { WatchConfig } from '../config/schema.js'
import type { EventBus } from '../events.js'
import type { Logger } from '../logger.js'
import { createTaskLimiter } from '../task-limiter.js'
import { applyAfterSuccess } from './after-success.js'
import { createFolderWatcher, type FolderWatcher } from './folder-watcher.js'
import { createIntake, type Intake, type IntakeTarget } from './intake.js'
import { normalizeWatch, validateNewWatch } from './watch-validation.js'
import {
  createWatchStore,
  type SkippedEntry,
  type SubmittedEntry,
  type WatchDb,
  type WatchStore
} from './watch-store.js'

/** How often a missing (unmounted) watched folder is looked for. */
export const DEFAULT_POLL_MISSING_MS = 5000
/** Entries per folder that `list()` shows; the store keeps them all. */
export const MAX_LISTED_ENTRIES = 500

export interface EndedJob { id: string, state: 'done' | 'failed' | 'cancelled', source: string, output: string | null }

export interface WatchDeps {
  logger: Logger
  events: EventBus
  /** Ours alone: a LevelDB or a sublevel of one (runtime-added watches, seen content, reports). */
  db: Level<string, string> | WatchDb
  submit(req: { source: string, profile: string, outDir: string }): Promise<{ id: string }>
  /** Called once per job that ends; lets afterSuccess act and records the outcome. */
  onJobEnded(listener: (job: EndedJob) => void): () => void
  /** Paths the node itself wrote as outputs: never submitted, even inside a watched folder. */
  isNodeOutput(file: string): boolean
  hashFile(file: string, options?: { signal?: AbortSignal }): Promise<string>
  clock?: () => number
}

export interface WatchManager {
  start(options?: { signal?: AbortSignal }): Promise<void>
  stop(options?: { signal?: AbortSignal }): Promise<void>
  list(): WatchStatus[]
  add(watch: WatchConfig, options?: { signal?: AbortSignal }): Promise<WatchStatus>
  remove(path: string, options?: { signal?: AbortSignal }): Promise<void>
  /**
   * True once every file the folders reported so far is decided (submitted, skipped or ignored):
   * none waits to settle, no new folder waits to be walked, none is being taken. Tests wait for it
   * before checking that something was not submitted, instead of sleeping and hoping.
   */
  readonly idle: boolean
  /** Looks taken so far at a watched folder (start, polls): lets a test wait for the next poll. */
  checks(path: string): number
}

interface Entry {
  watch: WatchConfig
  folder: FolderWatcher
  target: IntakeTarget
  submitted: SubmittedEntry[]
  skipped: SkippedEntry[]
}

const keepLast = <T>(list: T[]): T[] => list.length > MAX_LISTED_ENTRIES ? list.slice(-MAX_LISTED_ENTRIES) : list

export function createWatchManager (
  deps: WatchDeps,
  init: { watches: WatchConfig[]; pollMissingMs?: number }
): WatchManager {
  const log = deps.logger.child({ component: 'watch' })
  const clock = deps.clock ?? Date.now
  const store: WatchStore = createWatchStore(deps.db as WatchDb)
  const entries = new Map<string, Entry>()
  // One add or remove at a time: two adds of one folder at once both found it free, and the first
  // one's watcher, replaced in `entries` by the second, was never stopped.
  const changes = createTaskLimiter(1)
  const jobEnds = new Set<Promise<void>>()
  let intake: Intake | null = null
  /** Candidates handed to intake and not decided yet (see `idle`). */
  let taking = 0
  let unsubscribe: (() => void) | null = null

  const excludedDirs = (): string[] =>
    [...entries.values()].flatMap(e => [e.watch.output, ...(e.watch.moveTo != null ? [e.watch.moveTo] : [])])

  const activate = async (watch: WatchConfig): Promise<Entry> => {
    const submitted = (await store.submitted(watch.path)).sort((a, b) => a.at - b.at)
    const skipped = await store.skipped(watch.path)
    const entry = { watch, submitted: keepLast(submitted), skipped: keepLast(skipped) } as Entry
    entry.target = {
      watch,
      get realRoot () {
        return entry.folder.realRoot
      },
      onSubmitted: s => {
        entry.submitted = keepLast([...entry.submitted.filter(e => e.file !== s.file), s])
        entry.skipped = entry.skipped.filter(e => e.file !== s.file)
      },
      onSkipped: s => {
        entry.skipped = keepLast([...entry.skipped.filter(e => e.file !== s.file), s])
      }
    }
    entry.folder = createFolderWatcher({
      watch,
      logger: log.child({ path: watch.path }),
      pollMissingMs: init.pollMissingMs ?? DEFAULT_POLL_MISSING_MS,
      excludedDirs,
      onCandidate: (file, shape) => {
        const taken = intake?.take(entry.target, file, shape)
        if (taken == null) return
        taking++
        void taken.finally(() => { taking-- })
      },
      onPaused: reason => {
        deps.events.emit('watch:paused', { data: { path: watch.path, reason } })
      },
      onResumed: () => {
        deps.events.emit('watch:resumed', { data: { path: watch.path } })
      }
    })
    entries.set(watch.path, entry)
    await entry.folder.start()
    return entry
  }

  const status = (e: Entry): WatchStatus => ({
    ...e.watch,
    state: e.folder.state,
    reason: e.folder.reason,
    submitted: e.submitted.map(({ file, jobId }) => ({ file, jobId })),
    skipped: e.skipped.map(({ file, code, message }) => ({ file, code, message }))
  })

  const handleJobEnd = async (job: EndedJob): Promise<void> => {
    let pending = await store.pendingJob(job.id)
    if (pending == null && intake != null) {
      // The job may have ended before its submission was recorded.
      await intake.whenIdle()
      pending = await store.pendingJob(job.id)
    }
    if (pending == null) return
    const entry = entries.get(pending.root)
    if (job.state === 'done' && entry != null) {
      try {
        const result = await applyAfterSuccess(entry.watch, entry.folder.realRoot, pending.file, pending)
        log.info(
          {
            jobId: job.id,
            file: pending.file,
            afterSuccess: entry.watch.afterSuccess,
            outcome: result.outcome,
            movedTo: result.path
          },
          'source handled after success'
        )
      } catch (err) {
        log.error({ err, jobId: job.id, file: pending.file }, 'afterSuccess failed; the source is left in place')
      }
    } else {
      log.info({ jobId: job.id, file: pending.file, state: job.state }, 'watched job ended; source left in place')
    }
    await store.deletePendingJob(job.id)
  }

  const stopFolder = async (path: string): Promise<void> => {
    const entry = entries.get(path)
    if (entry == null) return
    entries.delete(path)
    await entry.folder.stop()
  }

  return {
    async start () {
      intake = createIntake({
        logger: log,
        events: deps.events,
        store,
        submit: deps.submit,
        isNodeOutput: deps.isNodeOutput,
        hashFile: deps.hashFile,
        clock
      })
      unsubscribe = deps.onJobEnded(job => {
        const p = handleJobEnd(job).catch((err: unknown) => {
          log.error({ err, jobId: job.id }, 'watched job end not handled')
        })
        jobEnds.add(p)
        void p.finally(() => jobEnds.delete(p))
      })
      const watches = new Map<string, WatchConfig>()
      for (const raw of init.watches) {
        let watch: WatchConfig
        try {
          watch = normalizeWatch(raw)
        } catch (err) {
          log.error({ err, path: raw.path }, 'watched folder in config is invalid; ignored')
          continue
        }
        if (await store.isRemoved(watch.path)) {
          log.warn(
            { path: watch.path },
            'watched folder from config was removed with `ffmesh watch remove`; add it again to resume it'
          )
          continue
        }
        watches.set(watch.path, watch)
      }
      // Runtime additions win over config: they are the newer word of a person.
      for (const watch of await store.runtimeWatches()) watches.set(watch.path, watch)
      for (const watch of watches.values()) await activate(watch)
    },
    async stop () {
      unsubscribe?.()
      unsubscribe = null
      // Job ends already received still find their folder, so afterSuccess is not lost.
      await Promise.allSettled([...jobEnds])
      for (const path of [...entries.keys()]) await stopFolder(path)
      await intake?.close()
      intake = null
      await Promise.allSettled([...jobEnds])
    },
    list () {
      return [...entries.values()].map(status)
    },
    get idle () {
      return taking === 0 && [...entries.values()].every(e => e.folder.pending === 0)
    },
    checks (path) {
      return entries.get(path)?.folder.checks ?? 0
    },
    add: async input => await changes.run(async () => {
      const watch = await validateNewWatch(input)
      await stopFolder(watch.path)
      await store.saveWatch(watch)
      await store.markRemoved(watch.path, false)
      const entry = await activate(watch)
      log.info({ path: watch.path, profile: watch.profile }, 'watched folder added')
      return status(entry)
    }),
    remove: async input => await changes.run(async () => {
      const path = normalizeWatchPath(input)
      if (!entries.has(path)) {
        throw new FfmeshError(ErrorCodes.WATCH_NOT_FOUND, `${path} is not a watched folder; see \`ffmesh watch list\``)
      }
      await stopFolder(path)
      await store.deleteWatch(path)
      if (init.watches.some(w => normalizeWatchPathOrNull(w.path) === path)) await store.markRemoved(path, true)
      log.info({ path }, 'watched folder removed')
    })
  }
}

function normalizeWatchPathOrNull (p: string): string | null {
  try { return normalizeWatchPath(p) } catch { return null }
}

function normalizeWatchPath (p: string): string {
  if (p.includes('\0') || !p.startsWith('/')) {
    throw new FfmeshError(
      ErrorCodes.WATCH_NOT_FOUND,
      `"${p.replaceAll('\0', '\\0')}" is not a watched folder; give its absolute path`
    )
  }
  return p.length > 1 ? p.replace(/\/+$/, '').replace(/\/+/g, '/') : p
}
