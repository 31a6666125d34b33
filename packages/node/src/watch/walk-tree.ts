import fs from 'node:fs/promises'
import path from 'node:path'
import { isIgnoredName, isInside } from './watch-filter.js'

/** One folder of a library or a watched tree: its regular files (not hidden, not partial downloads). */
export interface Folder { dir: string, names: string[] }

/**
 * Walks a tree folder by folder, depth first: a library's scan, and a watched folder that appears
 * (folder-watcher.ts). Hidden entries (the trash, partial outputs, dot-files) and partial
 * downloads are never looked at; symbolic links are not followed (a link to a folder could lead
 * anywhere, or loop); `excluded` folders (an output root inside the tree) are left out whole.
 */
export async function* walkTree (
  root: string,
  excluded: readonly string[],
  options: { signal?: AbortSignal } = {}
): AsyncGenerator<Folder> {
  const stack = [root]
  while (stack.length > 0) {
    options.signal?.throwIfAborted()
    const dir = stack.pop() as string
    let entries
    try {
      entries = await fs.readdir(dir, { withFileTypes: true })
    } catch (err) {
      if (dir === root) throw err
      continue // vanished or unreadable while we walked: the next scan looks again
    }
    const names: string[] = []
    const subdirs: string[] = []
    for (const entry of entries) {
      if (isIgnoredName(entry.name)) continue
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        if (!excluded.some(x => isInside(x, full))) subdirs.push(full)
      } else if (entry.isFile()) {
        names.push(entry.name)
      }
    }
    names.sort()
    yield { dir, names }
    stack.push(...subdirs.sort().reverse())
  }
}
