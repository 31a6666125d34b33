import { constants } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { crashPoint } from '../store/crash-point.js'
import { fsyncDir, fsyncFile } from '../store/durable-fs.js'
import type { JobRecord, SwapIntent } from '../store/records.js'

/** The folder under a library root where replaced originals are kept (hidden: scans skip it). */
export const TRASH_DIR = '.ffmesh-trash'

/**
 * `--replace`: the verified output takes the original's place. Every step leaves the source path
 * holding either the original or the verified output, never neither and never part of one:
 *
 *   0. the output is complete, verified and fsynced in a hidden temp file beside the source;
 *   1. the swap's two paths are logged (job:swap-started), so a restart knows a swap is under way;
 *   2. the original gets a second link in the trash (a copy, fsynced then renamed in, across file
 *      systems): it is kept before its name is touched;
 *   3. the temp file is renamed over the source's name (atomic), or linked in under a new name
 *      when the profile's extension differs;
 *   4. with a new name, the original's old name is removed (it is safe in the trash);
 *   5. job:done is logged.
 *
 * A restart with a logged intent runs `completeSwap` again: each step checks whether it already
 * happened (the temp file still there means step 3 did not), so it finishes rather than repeats.
 */
export function swapIntent (job: JobRecord, outName: string): SwapIntent {
  const root = job.library?.root ?? path.dirname(job.source)
  const rel = path.relative(root, job.source)
  return {
    trash: path.join(root, TRASH_DIR, job.id, rel.startsWith('..') ? path.basename(job.source) : rel),
    final: path.join(path.dirname(job.source), outName)
  }
}

async function exists (file: string): Promise<boolean> {
  return await fs.lstat(file).then(() => true, () => false)
}

async function sameFile (a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([fs.stat(a).catch(() => null), fs.stat(b).catch(() => null)])
  return x != null && y != null && x.ino === y.ino && x.dev === y.dev
}

/** A second name for the original; a copy (temp, fsync, rename) where a link cannot cross devices. */
async function keepOriginal (source: string, trash: string): Promise<void> {
  await fs.mkdir(path.dirname(trash), { recursive: true })
  try {
    await fs.link(source, trash)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw err
    const tmp = `${trash}.ffmesh-partial`
    await fs.copyFile(source, tmp)
    await fsyncFile(tmp)
    await fs.rename(tmp, trash)
  }
  await fsyncDir(path.dirname(trash))
}

/** Steps 2 to 4, each skipped when a restart finds it done. `tmp` is the verified output. */
export async function completeSwap (job: JobRecord, intent: SwapIntent, tmp: string): Promise<void> {
  const dir = path.dirname(job.source)
  if (await exists(tmp)) {
    if (!await exists(intent.trash)) await keepOriginal(job.source, intent.trash)
    crashPoint('swap-after-trash')
    if (intent.final === job.source) {
      await fs.rename(tmp, intent.final)
    } else {
      // link, not rename: a file another program put at the new name meanwhile is never replaced.
      if (!await sameFile(tmp, intent.final)) await fs.link(tmp, intent.final)
      await fs.unlink(tmp)
    }
    await fsyncDir(dir)
    crashPoint('swap-after-rename')
  }
  if (intent.final !== job.source && await exists(intent.trash) && await exists(job.source)) {
    await fs.unlink(job.source)
    await fsyncDir(dir)
  }
  crashPoint('swap-before-done')
}

/** A name beside the source for the output when the extension changes, never an existing file. */
export async function freeOutputName (job: JobRecord, outName: string): Promise<string> {
  const dir = path.dirname(job.source)
  if (path.join(dir, outName) === job.source) return outName
  const ext = path.extname(outName)
  const stem = outName.slice(0, outName.length - ext.length)
  for (let n = 0; n < 10_000; n++) {
    const name = n === 0 ? outName : `${stem} (${n})${ext}`
    const taken = await fs.access(path.join(dir, name), constants.F_OK).then(() => true, () => false)
    if (!taken) return name
  }
  throw new Error(`no free name for ${outName} in ${dir}`)
}

/** Removes trash folders (one per job) older than `days`. */
export async function sweepTrash (root: string, days: number, now: number): Promise<number> {
  const trash = path.join(root, TRASH_DIR)
  let removed = 0
  for (const entry of await fs.readdir(trash, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue
    const dir = path.join(trash, entry.name)
    const stat = await fs.stat(dir).catch(() => null)
    if (stat == null || now - stat.mtimeMs < days * 86_400_000) continue
    await fs.rm(dir, { recursive: true, force: true })
    removed++
  }
  return removed
}
