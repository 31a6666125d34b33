import { realpath } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, isFfmeshError } from '@ffmesh/protocol'
import type { WatchConfig } from '../config/schema.js'
import type { EventBus } from '../events.js'
import type { Logger } from '../logger.js'
import type { FileShape } from './settle-tracker.js'
import { createTaskLimiter } from '../task-limiter.js'
import { isInside } from './watch-filter.js'
import type { SkippedEntry, SubmittedEntry, WatchStore } from './watch-store.js'

/**
 * Files hashed at once. Hashing is disk-bound: two streams keep a disk busy without making a
 * drop of fifty files thrash it (or open fifty descriptors).
 */
export const MAX_CONCURRENT_HASHES = 2

export interface IntakeDeps {
  logger: Logger
  events: EventBus
  store: WatchStore
  submit(req: { source: string, profile: string, outDir: string }): Promise<{ id: string }>
  isNodeOutput(file: string): boolean
  hashFile(file: string, options?: { signal?: AbortSignal }): Promise<string>
  clock: () => number
}

/** What intake reports back to the folder's status. */
export interface IntakeTarget {
  watch: WatchConfig
  realRoot: string
  onSubmitted(entry: SubmittedEntry): void
  onSkipped(entry: SkippedEntry): void
}

export interface Intake {
  /** Checks, hashes, deduplicates and submits one settled file. Never throws. */
  take(target: IntakeTarget, file: string, shape: FileShape): Promise<void>
  /** Resolves once every file being taken now is recorded (or refused). */
  whenIdle(): Promise<void>
  /** Waits for every file being taken; new ones are refused once `close` was called. */
  close(): Promise<void>
}

export function createIntake (deps: IntakeDeps): Intake {
  const limiter = createTaskLimiter(MAX_CONCURRENT_HASHES)
  const abort = new AbortController()
  const inFlight = new Set<Promise<void>>()
  // One decision at a time per (profile, content): two copies of one file dropped together
  // must not both pass the "seen before?" check.
  const contentLocks = new Map<string, Promise<void>>()
  let closed = false

  const withContentLock = async (lockKey: string, task: () => Promise<void>): Promise<void> => {
    const previous = contentLocks.get(lockKey) ?? Promise.resolve()
    const current = previous.then(task)
    const tail = current.catch(() => {})
    contentLocks.set(lockKey, tail)
    try {
      await current
    } finally {
      if (contentLocks.get(lockKey) === tail) contentLocks.delete(lockKey)
    }
  }

  const skip = async (target: IntakeTarget, entry: SkippedEntry): Promise<void> => {
    const root = target.watch.path
    await deps.store.saveSkipped(root, entry)
    target.onSkipped(entry)
    deps.logger.warn({ path: root, file: entry.file, code: entry.code }, `skipped: ${entry.message}`)
    deps.events.emit('watch:skipped', {
      data: { path: root, file: entry.file, code: entry.code, message: entry.message }
    })
  }

  const takeOne = async (target: IntakeTarget, file: string, shape: FileShape): Promise<void> => {
    const { watch, realRoot } = target
    const root = watch.path
    if (file.includes('\0') || !path.isAbsolute(file) || path.normalize(file) !== file) {
      if ((await deps.store.skippedFile(root, file.replaceAll('\0', '\\0')))?.code === ErrorCodes.SOURCE_NAME_INVALID) {
        return
      }
      await skip(target, {
        file: file.replaceAll('\0', '\\0'),
        code: ErrorCodes.SOURCE_NAME_INVALID,
        message: 'the file name cannot be passed on safely (NUL byte or not a normalized absolute path); rename it'
      })
      return
    }
    if (deps.isNodeOutput(file)) return
    const source = await realpath(file)
    if (!isInside(realRoot, source) || source === realRoot) {
      const known = await deps.store.skippedFile(root, file)
      if (known?.code === ErrorCodes.SOURCE_OUTSIDE_WATCH && known.target === source) return
      await skip(target, {
        file,
        target: source,
        code: ErrorCodes.SOURCE_OUTSIDE_WATCH,
        message: `symlink leads outside the watched folder (to ${source}); copy the file in instead`
      })
      return
    }
    if (deps.isNodeOutput(source)) return
    const hash = await limiter.run(async () => await deps.hashFile(source, { signal: abort.signal }))
    await withContentLock(`${watch.profile}\0${hash}`, async () => {
      const seen = await deps.store.content(watch.profile, hash)
      if (seen != null) {
        deps.logger.debug(
          { file, profile: watch.profile, jobId: seen.jobId, code: seen.code },
          'content already taken for this profile'
        )
        return
      }
      let job: { id: string }
      try {
        job = await deps.submit({ source, profile: watch.profile, outDir: path.resolve(watch.output) })
      } catch (err) {
        if (!isFfmeshError(err)) throw err
        // Refusals are about the content (not media, corrupt, unknown profile): remember them by
        // hash, so the same bytes are not retried at every event or restart, but new bytes are.
        await deps.store.saveContent(watch.profile, hash, {
          file: source,
          code: err.code,
          message: err.message,
          at: deps.clock()
        })
        await skip(target, { file, hash, code: err.code, message: err.message })
        return
      }
      const entry = { file, jobId: job.id, at: deps.clock() }
      await deps.store.savePendingJob(job.id, {
        root,
        file: source,
        hash,
        profile: watch.profile,
        size: shape.size,
        mtimeMs: shape.mtimeMs
      })
      await deps.store.saveContent(watch.profile, hash, { file: source, jobId: job.id, at: entry.at })
      await deps.store.saveSubmitted(root, entry)
      if ((await deps.store.skippedFile(root, file)) != null) await deps.store.deleteSkipped(root, file)
      target.onSubmitted(entry)
      deps.logger.info({ path: root, file, jobId: job.id, profile: watch.profile }, 'submitted from watched folder')
      deps.events.emit('watch:submitted', { jobId: job.id, data: { path: root, file, profile: watch.profile } })
    })
  }

  return {
    async take (target, file, shape) {
      if (closed) return
      const task = takeOne(target, file, shape).catch((err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code
        // Gone before we got to it, or we are stopping: the next event or start-up scan retries.
        if (code === 'ENOENT' || abort.signal.aborted) return
        deps.logger.error({ err, file }, 'watched file could not be taken; it is retried at the next change or restart')
      })
      inFlight.add(task)
      try {
        await task
      } finally {
        inFlight.delete(task)
      }
    },
    async whenIdle () {
      await Promise.allSettled([...inFlight])
    },
    async close () {
      closed = true
      // Hashes not finished are dropped (the start-up scan redoes them); submissions already
      // under way complete and are recorded, so a restart neither loses nor doubles them.
      abort.abort()
      await Promise.allSettled([...inFlight])
    }
  }
}
