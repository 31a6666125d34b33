import fs from 'node:fs/promises'
import path from 'node:path'
import {
  ErrorCodes,
  FfmeshError,
  newJobId,
  toErrorBody,
  type ErrorBody,
  type Profile,
  type ScanPlanEntry,
  type ScanReport
} from '@ffmesh/protocol'
import pMap from 'p-map'
import type { JobComponents } from '../jobs/shared/deps.js'
import { queuedJobEvent, type QueuedFile } from '../jobs/owner/queue-job.js'
import type { AreaPut } from '../store/job-store.js'
import { passesFilters, relativeToRoot } from '../watch/watch-filter.js'
import { FILE_INDEX_AREA, indexKey, type FileIndex } from './file-index.js'
import type { LibrarySpec } from './library-spec.js'
import { classifyFolder, type ClassifiedFile } from './media-kinds.js'
import { libraryOutputName } from './output-name.js'
import { copySidecars } from './sidecars.js'
import { probeRule, sizeRule } from './rules.js'
import { lookAgain } from './touched-file.js'
import { walkTree } from '../watch/walk-tree.js'

/** Jobs logged per synced write: one fsync per 500 jobs instead of one per job. */
export const QUEUE_BATCH = 500
/** Probes at once in a dry run: each is an ffprobe process reading the file's start. */
const DRY_RUN_PROBES = 2

export interface ScannerDeps {
  c: JobComponents
  index: FileIndex
  hashFile(file: string, options?: { signal?: AbortSignal }): Promise<string>
}

export interface ScanOptions {
  signal?: AbortSignal
  dryRun?: boolean
  /** Look at these files only (a change notification), not the whole tree. */
  only?: readonly string[]
}

/**
 * One pass over a library: stat every media file, compare it with what the library remembers,
 * and queue a job for each new or changed one, in batches of QUEUE_BATCH, each largest first (no
 * probe, no hash: a rescan of 10,000 unchanged files is 10,000 stats and reads). The report counts
 * every media file once:
 * found = submitted + skipped + failed.
 */
export function createScanner (deps: ScannerDeps) {
  const { c, index } = deps
  // One scan at a time on the node: two scans of one tree (a library's rescan and a `scan` run
  // by hand) would both find a new file unrecorded and queue it twice.
  let tail: Promise<unknown> = Promise.resolve()

  async function scan (spec: LibrarySpec, options: ScanOptions = {}): Promise<ScanReport> {
    const run = tail.then(async () => await scanNow(spec, options))
    tail = run.catch(() => {})
    return await run
  }

  async function scanNow (spec: LibrarySpec, options: ScanOptions): Promise<ScanReport> {
    const batch = newJobId(c.clock())
    const report: ScanReport = {
      batch,
      found: 0,
      submitted: [],
      skipped: [],
      failed: [],
      ...(options.dryRun === true ? { plan: [] } : {})
    }
    const toProbe: Array<{ file: string, size: number, item: ClassifiedFile }> = []
    let pending: Array<{ file: QueuedFile, put: AreaPut }> = []
    const madeDirs = new Set<string>()

    const flush = async (): Promise<void> => {
      if (pending.length === 0) return
      // Largest first, as `ffmesh submit` sends several files: the batch then ends on its short
      // files, which even out the workers' last minutes instead of one long file ending it alone.
      const items = pending.sort((a, b) => b.file.size - a.file.size)
      pending = []
      const now = c.clock()
      const events = items.map(i => queuedJobEvent(c, i.file, now))
      const puts = items.map((i, n) => ({
        ...i.put,
        value: index.encode({ size: i.file.size, mtimeMs: i.file.mtimeMs, jobId: events[n]?.jobId as string })
      }))
      await c.store.appendBatch(events, puts)
      for (const [n, e] of events.entries()) {
        report.submitted.push({ path: items[n]?.file.source as string, jobId: e.jobId })
        c.events.emit('job:submitted', {
          jobId: e.jobId,
          data: { source: items[n]?.file.source, profile: items[n]?.file.profile.name, batch }
        })
      }
    }

    const fail = (file: string, error: ErrorBody): void => {
      report.failed.push({ path: file, error })
      report.plan?.push({ path: file, action: 'fail', profile: null, output: null, reason: error })
    }
    const skip = (file: string, reason: ErrorBody, profile: string | null): void => {
      report.skipped.push({ path: file, reason: reason.code })
      report.plan?.push({ path: file, action: 'skip', profile, output: null, reason })
    }

    /** The file index's key for `file` converted with `profile` in this library. */
    const keyOf = (profile: Profile, file: string): string =>
      indexKey(profile.name, spec.replace ? null : spec.output, file)

    /**
     * A changed sidecar: copied beside its video's output if the library converted that video as it
     * is now. Nothing is queued: the video may still be arriving (a folder copied in, its subtitles
     * first), and its own notice or the next scan looks at it.
     */
    const sidecarsOfKnown = async (dir: string, item: ClassifiedFile): Promise<void> => {
      const file = path.join(dir, item.name)
      const profile = spec.table[item.kind]
      if (profile == null || !passesFilters(relativeToRoot(spec.root, file), spec.include, spec.exclude)) return
      const stat = await fs.stat(file).catch(() => null)
      if (stat == null) return
      const known = await index.get(keyOf(profile, file))
      if (known?.size === stat.size && known.mtimeMs === stat.mtimeMs) await sidecarsToMirror(spec, dir, item, profile)
    }

    const take = async (dir: string, item: ClassifiedFile): Promise<void> => {
      const file = path.join(dir, item.name)
      const rel = relativeToRoot(spec.root, file)
      if (!passesFilters(rel, spec.include, spec.exclude)) return
      const stat = await fs.stat(file).catch(() => null)
      if (stat == null || !stat.isFile()) return // gone while we looked
      report.found++
      const profile = spec.table[item.kind]
      if (profile == null) return
      const key = keyOf(profile, file)
      const known = await index.get(key)
      if (known != null && known.size === stat.size) {
        // Only a file whose time changed is read (hashed), and only when its earlier hash is known.
        const again =
          known.mtimeMs !== stat.mtimeMs && known.hash != null
            ? await lookAgain(file, known.hash, deps.hashFile, options)
            : null
        if (again != null && 'error' in again) return fail(file, again.error)
        const touched = again?.same === true
        if (touched) await index.put(key, { ...known, mtimeMs: stat.mtimeMs })
        if (known.mtimeMs === stat.mtimeMs || touched) {
          if (options.dryRun !== true) await sidecarsToMirror(spec, dir, item, profile)
          return skip(
            file,
            { code: ErrorCodes.UNCHANGED, message: `unchanged since job ${known.jobId} handled it` },
            profile.name
          )
        }
      }
      if (stat.size === 0) {
        return fail(file, {
          code: ErrorCodes.SOURCE_EMPTY,
          message: `${file} is empty (0 bytes); was it copied completely?`
        })
      }
      const outDir = outDirOf(spec, dir)
      if (options.dryRun === true) {
        toProbe.push({ file, size: stat.size, item })
        return
      }
      if (!madeDirs.has(outDir)) {
        try {
          await fs.mkdir(outDir, { recursive: true })
        } catch (err) {
          return fail(file, {
            code: ErrorCodes.OUTPUT_NOT_WRITABLE,
            message: `cannot create output folder ${outDir} (${(err as NodeJS.ErrnoException).code ?? ''})`
          })
        }
        madeDirs.add(outDir)
      }
      pending.push({
        file: {
          source: file,
          size: stat.size,
          mtimeMs: stat.mtimeMs,
          profile,
          outDir,
          library: {
            root: spec.root,
            profiles: spec.profiles,
            rules: spec.rules,
            sidecars: item.sidecars.map(s => path.join(dir, s)),
            replace: spec.replace,
            outRoot: spec.replace ? null : spec.output,
            batch
          }
        },
        put: { area: FILE_INDEX_AREA, key, value: '' }
      })
      if (pending.length >= QUEUE_BATCH) await flush()
    }

    const excluded = spec.output != null ? [spec.output] : []
    if (options.only != null) {
      for (const dir of new Set(options.only.map(f => path.dirname(f)))) {
        const names = await fs.readdir(dir).catch(() => [] as string[])
        const wanted = new Set(options.only.filter(f => path.dirname(f) === dir).map(f => path.basename(f)))
        for (const item of classifyFolder(names, spec.profiles)) {
          if (wanted.has(item.name)) await take(dir, item)
          else if (item.sidecars.some(s => wanted.has(s))) await sidecarsOfKnown(dir, item)
        }
      }
    } else {
      for await (const folder of walkTree(spec.root, excluded, options)) {
        for (const item of classifyFolder(folder.names, spec.profiles)) await take(folder.dir, item)
      }
    }
    await flush()
    if (options.dryRun === true) await dryRun(spec, toProbe, report, options)
    return report
  }

  /** Where the outputs of a library folder go: the mirrored folder under `--out`, else the folder itself. */
  function outDirOf (spec: LibrarySpec, dir: string): string {
    return spec.replace || spec.output == null ? dir : path.join(spec.output, path.relative(spec.root, dir))
  }

  /**
   * A mirrored video already converted: sidecars added or changed since (subtitles a tool fetched
   * later) are copied beside its output; not where there is no output (a skipped file's sidecars
   * would stand alone in the mirror).
   */
  async function sidecarsToMirror (
    spec: LibrarySpec,
    dir: string,
    item: ClassifiedFile,
    profile: Profile
  ): Promise<void> {
    if (spec.replace || spec.output == null || item.sidecars.length === 0) return
    const outDir = outDirOf(spec, dir)
    const output = path.join(outDir, libraryOutputName(path.join(dir, item.name), profile))
    if (!await fs.access(output).then(() => true, () => false)) return
    await copySidecars(item.sidecars.map(s => path.join(dir, s)), outDir).catch((err: unknown) => {
      c.logger.warn({ err, dir: outDir }, 'could not copy sidecars beside an output; the next scan tries again')
    })
  }

  /** What the plan's rules would say of each file: probes, a few at a time, and no job. */
  async function dryRun (
    spec: LibrarySpec,
    files: Array<{ file: string; size: number; item: ClassifiedFile }>,
    report: ScanReport,
    options: ScanOptions
  ): Promise<void> {
    const entries = await pMap(
      files,
      async ({ file, size, item }): Promise<ScanPlanEntry> => {
        const profile = spec.table[item.kind]
        const early = sizeRule(size, spec.rules)
        if (early != null) {
          return { path: file, action: 'skip', profile: profile?.name ?? null, output: null, reason: early }
        }
        try {
          const info = await c.media.probeSource(file, options)
          const chosen = spec.table[info.kind] ?? profile
          if (chosen == null) {
            throw new FfmeshError(
              ErrorCodes.PROFILE_MISMATCH,
              `${file} is ${info.kind}, and the scan has no ${info.kind} profile`
            )
          }
          c.media.checkProfileFits(info, chosen)
          const reason = probeRule(file, size, info, chosen, spec.rules)
          if (reason != null) return { path: file, action: 'skip', profile: chosen.name, output: null, reason }
          const outName = libraryOutputName(file, chosen)
          const dir = path.dirname(file)
          const output =
            spec.replace || spec.output == null
              ? path.join(dir, outName)
              : path.join(spec.output, path.relative(spec.root, dir), outName)
          return { path: file, action: 'convert', profile: chosen.name, output, reason: null }
        } catch (err) {
          return { path: file, action: 'fail', profile: profile?.name ?? null, output: null, reason: toErrorBody(err) }
        }
      },
      { concurrency: DRY_RUN_PROBES, signal: options.signal }
    )
    for (const e of entries) {
      report.plan?.push(e)
      if (e.action === 'skip' && e.reason != null) report.skipped.push({ path: e.path, reason: e.reason.code })
      if (e.action === 'fail' && e.reason != null) report.failed.push({ path: e.path, error: e.reason })
    }
  }

  return { scan }
}

export type Scanner = ReturnType<typeof createScanner>
