import path from 'node:path'

/**
 * Suffixes browsers and download tools give files that are still being written; the finished file
 * arrives under its real name by rename, which is then a new file to the watcher.
 */
export const PARTIAL_SUFFIXES = ['.part', '.crdownload', '.tmp', '~'] as const

/** True when `child` is `parent` itself or lies below it (both absolute, normalized). */
export function isInside (parent: string, child: string): boolean {
  const rel = path.relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

/** Path of `file` relative to the watch root, with forward slashes (what globs are written in). */
export function relativeToRoot (root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/')
}

/** Hidden (a dot-segment anywhere under the root) or a partial download: never a candidate. */
export function isIgnoredName (relative: string): boolean {
  const segments = relative.split('/')
  if (segments.some((s) => s.startsWith('.'))) return true
  const base = (segments.at(-1) ?? '').toLowerCase()
  return PARTIAL_SUFFIXES.some((suffix) => base.endsWith(suffix))
}

/**
 * A pattern without a slash matches the file name at any depth (`*.mkv`), one with a slash
 * matches the path relative to the watch root (`shows/**\/*.mkv`), as .gitignore does.
 */
function matchesPattern (relative: string, pattern: string): boolean {
  const subject = pattern.includes('/') ? relative : path.posix.basename(relative)
  return path.posix.matchesGlob(subject, pattern)
}

export function passesFilters (relative: string, include: readonly string[], exclude: readonly string[]): boolean {
  if (include.length > 0 && !include.some((p) => matchesPattern(relative, p))) return false
  return !exclude.some((p) => matchesPattern(relative, p))
}
