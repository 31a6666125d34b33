import { constants } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { crashPoint } from '../store/crash-point.js'
import { fsyncDir, fsyncFile } from '../store/durable-fs.js'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { assertSourceUnchanged, sourceAsSubmitted } from '../jobs/owner/source-check.js'
import type { FileIdentity, JobRecord, SwapIntent } from '../store/records.js'
import { isInside } from '../watch/watch-filter.js'

/** The folder under a library root where replaced originals are kept (hidden: scans skip it). */
export const TRASH_DIR = '.ffmesh-trash'

/**
 * `--replace`: the verified output takes the original's place. Every step leaves the source path
 * holding either the original or the verified output, never neither and never part of one:
 *
 *   0. the output is complete, verified and fsynced in a hidden temp file beside the source;
 *   1. the swap's two paths and the output's identity are logged (job:swap-started), so a restart
 *      knows a swap is under way and which file is its output;
 *   2. the original gets a second link in the trash, on its own disk (trashTopFor; a copy,
 *      fsynced then renamed in, where a link is refused): it is kept before its name is touched;
 *   3. the temp file is renamed over the source's name (atomic), or linked in under a new name
 *      when the profile's extension differs;
 *   4. with a new name, the original's old name is removed (it is safe in the trash);
 *   5. job:done is logged.
 *
 * A restart with a logged intent runs `completeSwap` again: each step checks whether it already
 * happened (the output still under its temp name means step 3 did not), so it finishes rather than
 * repeats; a swap that never moved a name and has no output left to move is dropped.
 */
export async function swapIntent (job: JobRecord, outName: string): Promise<SwapIntent> {
  const root = job.library?.root ?? path.dirname(job.source)
  const top = await trashTopFor(root, job.source)
  const rel = path.relative(top, job.source)
  return {
    trash: path.join(top, TRASH_DIR, job.id, rel.startsWith('..') ? path.basename(job.source) : rel),
    final: path.join(path.dirname(job.source), outName)
  }
}

/**
 * The folder whose trash keeps `source`: the library root, or the top of a disk mounted inside
 * the library that holds the source, where keeping the original is a second link rather than a
 * copy onto the root's disk (minutes per film, and space that disk may lack). The root where that
 * top cannot be written (a disk's top owned by root): there the original is copied, as before.
 */
async function trashTopFor (root: string, source: string): Promise<string> {
  const tops = (await trashTops(root)).filter(t => isInside(t, source))
  const deepest = tops.sort((a, b) => b.length - a.length)[0]
  if (deepest == null || deepest === root) return root
  const writable = await fs.access(deepest, constants.W_OK | constants.X_OK).then(() => true, () => false)
  return writable ? deepest : root
}

/**
 * Where a library's trash folders may be: its root, and each disk mounted inside it (Linux's mount
 * table; none where it cannot be read). Mount points are real paths, so a root reached through a
 * symbolic link is resolved to compare them, and they are named under the root as given.
 */
async function trashTops (root: string): Promise<string[]> {
  const real = await fs.realpath(root).catch(() => root)
  const table = await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => '')
  // Field 5 is the mount point, with space, tab, newline and backslash written as octal escapes.
  const unescape = (field: string): string =>
    field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
  const mounts = table.split('\n').map(line => unescape(line.split(' ')[4] ?? ''))
  const inside = mounts.filter(m => m !== '' && m !== real && isInside(real, m))
  return [root, ...new Set(inside.map(m => path.join(root, path.relative(real, m))))]
}

async function exists (file: string): Promise<boolean> {
  return await fs.lstat(file).then(() => true, () => false)
}

/** The identity a swap logs of its verified output (see SwapIntent.output). */
export async function fileIdentity (file: string): Promise<FileIdentity> {
  const { ino, size, mtimeMs } = await fs.stat(file)
  return { ino, size, mtimeMs }
}

/**
 * Whether `file` is the swap's verified output. A swap logged by an older node did not record it:
 * there, as that node did, a file under the name is taken for it.
 */
async function isOutput (file: string, intent: SwapIntent): Promise<boolean> {
  const stat = await fs.stat(file).catch(() => null)
  if (stat == null || intent.output == null) return stat != null
  const { ino, size, mtimeMs } = intent.output
  return stat.ino === ino && stat.size === size && stat.mtimeMs === mtimeMs
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
    try {
      await fs.copyFile(source, tmp)
      await fsyncFile(tmp)
    } catch (copyErr) {
      // A copy cut short (a full disk) is of no use, and the next attempt starts it again.
      await fs.rm(tmp, { force: true })
      throw copyErr
    }
    await fs.rename(tmp, trash)
  }
  await fsyncDir(path.dirname(trash))
}

/**
 * The output takes the original's permissions, and its owner and group as far as this process may
 * give them: a media server that could read the original reads its replacement.
 */
async function keepAccess (source: string, output: string): Promise<void> {
  const original = await fs.stat(source)
  await fs.chmod(output, original.mode & 0o777)
  const notPermitted = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPERM') throw err
  }
  await fs.chown(output, original.uid, original.gid).catch(async (err: NodeJS.ErrnoException) => {
    notPermitted(err)
    // Not root: the group alone, where this user belongs to it.
    await fs.chown(output, -1, original.gid).catch(notPermitted)
  })
}

/**
 * Steps 2 to 4, each skipped when a restart finds it done. `tmp` is where the verified output
 * waits. Returns false when none of the swap happened and none can: `tmp` is not the output (gone,
 * or an assembly writing it again) and neither is the final name; the caller then places the
 * output afresh. The source's name is replaced or removed only while it holds the file that was
 * converted: another program may have put a new one there meanwhile (and a restart comes here
 * after any time); then it is kept, and SOURCE_CHANGED fails the job before step 3.
 */
export async function completeSwap (job: JobRecord, intent: SwapIntent, tmp: string): Promise<boolean> {
  const dir = path.dirname(job.source)
  if (await isOutput(tmp, intent)) {
    const unchanged = async (): Promise<void> =>
      await assertSourceUnchanged(job, 'before the output took its place; the original is kept')
    // Before the trash keeps anything, and again after: a copy across disks takes minutes.
    await unchanged()
    if (!await exists(intent.trash)) await keepOriginal(job.source, intent.trash)
    crashPoint('swap-after-trash')
    await unchanged()
    await keepAccess(job.source, tmp)
    if (intent.final === job.source) {
      await fs.rename(tmp, intent.final)
    } else {
      // link, not rename: a file another program put at the new name meanwhile is never replaced.
      if (!await isOutput(intent.final, intent)) await linkNew(tmp, intent.final)
      await fs.unlink(tmp)
    }
    await fsyncDir(dir)
    crashPoint('swap-after-rename')
  } else if (!await isOutput(intent.final, intent)) {
    return false
  }
  if (intent.final !== job.source && await exists(intent.trash) && await sourceAsSubmitted(job)) {
    await fs.unlink(job.source)
    await fsyncDir(dir)
  }
  crashPoint('swap-before-done')
  return true
}

/** Links the output in at a name chosen free a moment ago: taken since, the job fails and the original stays. */
async function linkNew (tmp: string, final: string): Promise<void> {
  await fs.link(tmp, final).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err
    throw new FfmeshError(
      ErrorCodes.OUTPUT_NOT_WRITABLE,
      `${final} appeared while the output was put in place; the original is kept: retry the job`
    )
  })
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

/** Removes trash folders (one per job) older than `days`: the root's, and those of disks mounted inside it. */
export async function sweepTrash (root: string, days: number, now: number): Promise<number> {
  let removed = 0
  for (const top of await trashTops(root)) {
    const trash = path.join(top, TRASH_DIR)
    for (const entry of await fs.readdir(trash, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory()) continue
      const dir = path.join(trash, entry.name)
      const stat = await fs.stat(dir).catch(() => null)
      if (stat == null || now - stat.mtimeMs < days * 86_400_000) continue
      await fs.rm(dir, { recursive: true, force: true })
      removed++
    }
  }
  return removed
}
