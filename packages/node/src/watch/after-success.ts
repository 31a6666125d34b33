import { constants } from 'node:fs'
import { copyFile, link, mkdir, rm, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { WatchConfig } from '../config/schema.js'
import type { FileShape } from './settle-tracker.js'

/** Tries `name-1.ext` … before giving up; a folder with this many clashes needs a person. */
export const MAX_NAME_SUFFIX = 1000

export type AfterSuccessOutcome = 'kept' | 'moved' | 'deleted' | 'changed' | 'missing'

/**
 * Moves `file` to `dest`, or to `dest` with a `-N` suffix when that name is taken: a hard link
 * (or an exclusive copy across filesystems) claims the new name atomically, so an existing file
 * is never overwritten even if another process races us.
 */
export async function moveWithoutOverwrite (file: string, dest: string): Promise<string> {
  await mkdir(path.dirname(dest), { recursive: true })
  const ext = path.extname(dest)
  const stem = dest.slice(0, dest.length - ext.length)
  for (let n = 0; n <= MAX_NAME_SUFFIX; n++) {
    const candidate = n === 0 ? dest : `${stem}-${n}${ext}`
    try {
      await link(file, candidate)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') continue
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw err
      try {
        await copyFile(file, candidate, constants.COPYFILE_EXCL)
      } catch (copyErr) {
        if ((copyErr as NodeJS.ErrnoException).code === 'EEXIST') continue
        await rm(candidate, { force: true })
        throw copyErr
      }
    }
    await unlink(file)
    return candidate
  }
  throw new Error(`no free name for ${dest} after ${MAX_NAME_SUFFIX} tries`)
}

/**
 * What a watch does with a source once its job is done and verified. The source is touched only
 * if it is still the content that was converted: a file replaced meanwhile is new work, not waste.
 * `root` is the watch folder's real path, so a moved file keeps its place relative to it.
 */
export async function applyAfterSuccess (
  watch: WatchConfig,
  root: string,
  file: string,
  converted: FileShape
): Promise<{ outcome: AfterSuccessOutcome; path?: string }> {
  if (watch.afterSuccess === 'keep') return { outcome: 'kept' }
  let now
  try {
    now = await stat(file)
  } catch {
    return { outcome: 'missing' }
  }
  if (now.size !== converted.size || now.mtimeMs !== converted.mtimeMs) return { outcome: 'changed' }
  if (watch.afterSuccess === 'delete') {
    await unlink(file)
    return { outcome: 'deleted' }
  }
  if (watch.moveTo == null) return { outcome: 'kept' }
  const dest = path.join(path.resolve(watch.moveTo), path.relative(root, file))
  return { outcome: 'moved', path: await moveWithoutOverwrite(file, dest) }
}
