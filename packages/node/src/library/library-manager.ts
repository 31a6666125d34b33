import path from 'node:path'
import {
  ErrorCodes,
  FfmeshError,
  LibrarySchema,
  type LibraryConfig,
  type LibraryRequest,
  type LibraryStatus,
  type Profile,
  type ScanBody,
  type ScanReport
} from '@ffmesh/protocol'
import type { JobComponents } from '../jobs/shared/deps.js'
import { createFolderWatcher, type FolderWatcher } from '../watch/folder-watcher.js'
import { createTaskLimiter } from '../task-limiter.js'
import { resolveLibrary, type LibrarySpec } from './library-spec.js'
import type { LibraryStore } from './library-store.js'
import type { Scanner } from './scanner.js'
import { sweepTrash } from './swap.js'

/** How often a library whose folder is missing (an unmounted disk) is looked for. */
const POLL_MISSING_MS = 5000

export interface LibraryManagerDeps {
  c: JobComponents
  scanner: Scanner
  store: LibraryStore
  profiles: Map<string, Profile>
}

interface Active {
  config: LibraryConfig
  spec: LibrarySpec
  watcher: FolderWatcher | null
  timer: NodeJS.Timeout | null
  /** The scan under way (one at a time per library) and whether another was asked for meanwhile. */
  scanning: Promise<void> | null
  again: boolean
  changed: Set<string>
  lastScan: LibraryStatus['lastScan']
  problem: string | null
  /** The watcher being set up. */
  starting: Promise<void> | null
}

// Only an absolute path is tidied (trailing slashes, `..`): a relative one stays as given, for
// resolveLibrary to refuse, not resolved against the folder the node happened to start in.
const normalize = (p: string): string => path.isAbsolute(p) && p.length > 1 ? path.resolve(p) : p

/**
 * The node's libraries: each is scanned when it starts, again every library.rescanMinutes (or
 * every library.pollSeconds with `poll: true`), and on change notifications in between.
 */
export function createLibraryManager (deps: LibraryManagerDeps, init: { libraries: LibraryConfig[] }) {
  const { c } = deps
  const log = c.logger.child({ component: 'library' })
  const active = new Map<string, Active>()
  // One add or remove at a time: two adds of one library at once both found it free, and the first
  // one's watcher and rescan timer, replaced in `active` by the second, were never stopped.
  const changes = createTaskLimiter(1)
  /** Libraries whose folder was missing when they were to start (an unmounted disk): tried again. */
  const waiting = new Map<string, { config: LibraryConfig, reason: string, timer: NodeJS.Timeout }>()
  let stopped = false

  const summary = (r: ScanReport): LibraryStatus['lastScan'] => ({
    at: c.clock(),
    found: r.found,
    submitted: r.submitted.length,
    skipped: r.skipped.length,
    failed: r.failed.length
  })

  async function runScan (a: Active, only?: string[]): Promise<void> {
    if (stopped) return
    const started = c.clock()
    try {
      const report = await deps.scanner.scan(a.spec, { only })
      if (only == null) {
        a.lastScan = summary(report)
        if (a.spec.replace) await sweepTrash(a.spec.root, c.config.library.trashDays, c.clock())
      }
      a.problem = null
      if (only == null || report.submitted.length > 0) {
        log.info(
          {
            path: a.spec.root,
            found: report.found,
            submitted: report.submitted.length,
            skipped: report.skipped.length,
            failed: report.failed.length,
            ms: c.clock() - started
          },
          only == null ? 'library scanned' : 'library files taken'
        )
      }
      c.events.emit('library:scanned', {
        data: { path: a.spec.root, found: report.found, submitted: report.submitted.length }
      })
    } catch (err) {
      a.problem = `scan failed: ${(err as Error).message}`
      log.warn({ err, path: a.spec.root }, 'library scan failed; retried at the next rescan')
    }
  }

  /** Runs a full scan (or the changed files) now, or right after the one under way. */
  function requestScan (a: Active, file?: string): void {
    if (file != null) a.changed.add(file)
    else a.again = true
    if (a.scanning == null) a.scanning = drain(a)
  }

  async function drain (a: Active): Promise<void> {
    try {
      while (!stopped && (a.again || a.changed.size > 0)) {
        if (a.again) {
          a.again = false
          a.changed.clear()
          await runScan(a)
        } else {
          const files = [...a.changed]
          a.changed.clear()
          await runScan(a, files)
        }
      }
    } finally {
      // In the same turn as the last check: a request that comes after it starts a new drain.
      a.scanning = null
    }
  }

  async function activate (config: LibraryConfig): Promise<Active> {
    const spec = await resolveLibrary(config, deps.profiles)
    const a: Active = {
      config,
      spec,
      watcher: null,
      timer: null,
      scanning: null,
      again: false,
      changed: new Set(),
      lastScan: null,
      problem: null,
      starting: null
    }
    active.set(spec.root, a)
    const everyMs = config.poll ? c.config.library.pollSeconds * 1000 : c.config.library.rescanMinutes * 60_000
    a.timer = setInterval(() => requestScan(a), everyMs)
    // Queue at once: watching a large tree takes a while (chokidar reads every folder first).
    requestScan(a)
    if (!config.poll) {
      a.watcher = createFolderWatcher({
        watch: {
          path: spec.root,
          profile: 'library',
          output: spec.output ?? spec.root,
          recursive: true,
          include: spec.include,
          exclude: spec.exclude,
          afterSuccess: 'keep',
          settleSeconds: config.settleSeconds
        },
        logger: log.child({ path: spec.root }),
        pollMissingMs: POLL_MISSING_MS,
        // The scans see every file already there; notifications bring the rest.
        ignoreInitial: true,
        excludedDirs: () => (spec.output != null ? [spec.output] : []),
        onCandidate: file => requestScan(a, file),
        onPaused: reason => {
          a.problem = reason
        },
        onResumed: () => {
          a.problem = null
          requestScan(a)
        }
      })
      // Once watching, one more scan (a stat per file) finds what arrived while the watch was set up.
      a.starting = a.watcher.start().then(() => { if (active.get(spec.root) === a) requestScan(a) })
    }
    return a
  }

  async function deactivate (root: string): Promise<void> {
    const a = active.get(root)
    if (a == null) return
    active.delete(root)
    if (a.timer != null) clearInterval(a.timer)
    await a.starting?.catch(() => {})
    await a.watcher?.stop()
    await a.scanning
  }

  /** Starts a library, or, if its folder is not there now, lists it as paused and tries again. */
  async function activateOrWait (config: LibraryConfig): Promise<void> {
    try {
      await activate(config)
      waiting.delete(config.path)
    } catch (err) {
      if (stopped) return
      const reason = `not started: ${(err as Error).message}`
      if (waiting.get(config.path)?.reason !== reason) {
        log.warn({ path: config.path, reason }, 'library not started; trying again')
      }
      const timer = setTimeout(() => { void activateOrWait(config) }, POLL_MISSING_MS)
      waiting.set(config.path, { config, reason, timer })
    }
  }

  const unwait = (root: string): boolean => {
    const w = waiting.get(root)
    if (w != null) clearTimeout(w.timer)
    return waiting.delete(root)
  }

  const status = (a: Active): LibraryStatus => ({
    ...a.config,
    state: a.problem != null ? 'paused' : a.scanning != null ? 'scanning' : 'active',
    reason: a.problem,
    lastScan: a.lastScan
  })

  return {
    async start (): Promise<void> {
      const configs = new Map<string, LibraryConfig>()
      for (const raw of init.libraries) {
        const config = { ...raw, path: normalize(raw.path) }
        if (await deps.store.isRemoved(config.path)) {
          log.warn(
            { path: config.path },
            'library from config was removed with `ffmesh library remove`; add it again to resume it'
          )
          continue
        }
        configs.set(config.path, config)
      }
      for (const config of await deps.store.runtime()) configs.set(config.path, config)
      for (const config of configs.values()) {
        await activateOrWait(config)
      }
    },
    async stop (): Promise<void> {
      stopped = true
      for (const root of [...waiting.keys()]) unwait(root)
      for (const root of [...active.keys()]) await deactivate(root)
    },
    list: (): LibraryStatus[] => [
      ...[...active.values()].map(status),
      ...[...waiting.values()].map(w => ({ ...w.config, state: 'paused' as const, reason: w.reason, lastScan: null }))
    ],
    add: async (input: LibraryRequest): Promise<LibraryStatus> => await changes.run(async () => {
      const parsed = LibrarySchema.parse(input)
      const config = { ...parsed, path: normalize(parsed.path) }
      await resolveLibrary(config, deps.profiles)
      unwait(config.path)
      await deactivate(config.path)
      await deps.store.save(config)
      await deps.store.markRemoved(config.path, false)
      const a = await activate(config)
      log.info({ path: config.path, profiles: config.profiles }, 'library added')
      return status(a)
    }),
    remove: async (root: string): Promise<void> => await changes.run(async () => {
      const key = normalize(root)
      const wasWaiting = unwait(key)
      if (!active.has(key) && !wasWaiting) {
        throw new FfmeshError(ErrorCodes.LIBRARY_NOT_FOUND, `${key} is not a library; see \`ffmesh library list\``)
      }
      await deactivate(key)
      await deps.store.delete(key)
      if (init.libraries.some(l => normalize(l.path) === key)) await deps.store.markRemoved(key, true)
      log.info({ path: key }, 'library removed')
    }),
    /** `ffmesh scan`: a one-shot pass with the same rules, or a dry run. */
    async scan (req: ScanBody, options: { signal?: AbortSignal } = {}): Promise<ScanReport> {
      const spec = await resolveLibrary(req, deps.profiles)
      const report = await deps.scanner.scan(spec, { dryRun: req.dryRun, signal: options.signal })
      if (spec.replace && !req.dryRun) await sweepTrash(spec.root, c.config.library.trashDays, c.clock())
      log.info(
        {
          path: spec.root,
          dryRun: req.dryRun,
          found: report.found,
          submitted: report.submitted.length,
          skipped: report.skipped.length,
          failed: report.failed.length
        },
        'scan'
      )
      return report
    }
  }
}

export type LibraryManager = ReturnType<typeof createLibraryManager>
