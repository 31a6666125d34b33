import type { WatchConfig } from '../config/schema.js'

/** The part of a LevelDB (or a sublevel of one) the watcher uses; values are JSON strings. */
export interface WatchDb {
  get(key: string): Promise<string | undefined>
  put(key: string, value: string): Promise<void>
  del(key: string): Promise<void>
  iterator(options: { gte: string, lt: string }): AsyncIterable<[string, string]>
}

/** What became of one content (SHA-512) under one profile: a job, or the reason it was refused. */
export interface ContentRecord { file: string, jobId?: string, code?: string, message?: string, at: number }
/** A job a watch submitted and whose end has not been seen yet (afterSuccess waits on it). */
export interface PendingJob { root: string, file: string, hash: string, profile: string, size: number, mtimeMs: number }
export interface SubmittedEntry { file: string, jobId: string, at: number }
export interface SkippedEntry { file: string, code: string, message: string, hash?: string, target?: string }

// NUL cannot occur in a path, so it separates key parts without ambiguity and bounds prefix scans.
const SEP = '\u0000'
const END = '\u0001'
const key = (...parts: string[]): string => parts.join(SEP)

export interface WatchStore {
  runtimeWatches(): Promise<WatchConfig[]>
  saveWatch(watch: WatchConfig): Promise<void>
  deleteWatch(path: string): Promise<void>
  /** Config watches a person removed at run time stay removed across restarts until added again. */
  isRemoved(path: string): Promise<boolean>
  markRemoved(path: string, removed: boolean): Promise<void>
  content(profile: string, hash: string): Promise<ContentRecord | undefined>
  saveContent(profile: string, hash: string, record: ContentRecord): Promise<void>
  pendingJob(jobId: string): Promise<PendingJob | undefined>
  savePendingJob(jobId: string, job: PendingJob): Promise<void>
  deletePendingJob(jobId: string): Promise<void>
  submitted(root: string): Promise<SubmittedEntry[]>
  saveSubmitted(root: string, entry: SubmittedEntry): Promise<void>
  skipped(root: string): Promise<SkippedEntry[]>
  skippedFile(root: string, file: string): Promise<SkippedEntry | undefined>
  saveSkipped(root: string, entry: SkippedEntry): Promise<void>
  deleteSkipped(root: string, file: string): Promise<void>
}

export function createWatchStore (db: WatchDb): WatchStore {
  const read = async <T>(k: string): Promise<T | undefined> => {
    const value = await db.get(k)
    return value == null ? undefined : JSON.parse(value) as T
  }
  const write = async (k: string, value: unknown): Promise<void> => { await db.put(k, JSON.stringify(value)) }
  const scan = async <T>(...prefix: string[]): Promise<T[]> => {
    const p = key(...prefix, '')
    const out: T[] = []
    for await (const [, value] of db.iterator({ gte: p, lt: p.slice(0, -SEP.length) + END })) {
      out.push(JSON.parse(value) as T)
    }
    return out
  }

  return {
    runtimeWatches: async () => await scan<WatchConfig>('watch'),
    saveWatch: async (watch) => { await write(key('watch', watch.path), watch) },
    deleteWatch: async (path) => { await db.del(key('watch', path)) },
    isRemoved: async (path) => (await db.get(key('removed', path))) != null,
    markRemoved: async (path, removed) => {
      if (removed) await write(key('removed', path), true)
      else await db.del(key('removed', path))
    },
    content: async (profile, hash) => await read<ContentRecord>(key('content', profile, hash)),
    saveContent: async (profile, hash, record) => { await write(key('content', profile, hash), record) },
    pendingJob: async (jobId) => await read<PendingJob>(key('job', jobId)),
    savePendingJob: async (jobId, job) => { await write(key('job', jobId), job) },
    deletePendingJob: async (jobId) => { await db.del(key('job', jobId)) },
    submitted: async (root) => await scan<SubmittedEntry>('submitted', root),
    saveSubmitted: async (root, entry) => { await write(key('submitted', root, entry.file), entry) },
    skipped: async (root) => await scan<SkippedEntry>('skipped', root),
    skippedFile: async (root, file) => await read<SkippedEntry>(key('skipped', root, file)),
    saveSkipped: async (root, entry) => { await write(key('skipped', root, entry.file), entry) },
    deleteSkipped: async (root, file) => { await db.del(key('skipped', root, file)) }
  }
}
