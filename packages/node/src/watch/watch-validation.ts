import { stat } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { WatchSchema, type WatchConfig } from '../config/schema.js'

/** Applies defaults and normalizes every path; throws BAD_ARGUMENTS for a malformed entry. */
export function normalizeWatch (input: unknown): WatchConfig {
  const parsed = WatchSchema.safeParse(input)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'watch'}: ${i.message}`).join('; ')
    throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `invalid watched folder: ${problems}`)
  }
  const w = parsed.data
  for (const [name, value] of [['path', w.path], ['output', w.output], ['moveTo', w.moveTo]] as const) {
    if (value == null) continue
    if (value.includes('\0') || !path.isAbsolute(value)) {
      throw new FfmeshError(
        ErrorCodes.WATCH_PATH_INVALID,
        `watch ${name} must be an absolute path, got "${value.replaceAll('\0', '\\0')}"`
      )
    }
  }
  return {
    ...w,
    path: path.resolve(w.path),
    output: path.resolve(w.output),
    ...(w.moveTo != null ? { moveTo: path.resolve(w.moveTo) } : {})
  }
}

/** What `add` requires beyond the schema: the folder exists now and outputs go elsewhere. */
export async function validateNewWatch (input: unknown): Promise<WatchConfig> {
  const w = normalizeWatch(input)
  let isDir = false
  try {
    isDir = (await stat(w.path)).isDirectory()
  } catch {
    // Missing or unreadable: reported just below with the same message.
  }
  if (!isDir) {
    throw new FfmeshError(
      ErrorCodes.WATCH_PATH_INVALID,
      `${w.path} is not an existing folder; create it or check the path`
    )
  }
  if (w.output === w.path) {
    throw new FfmeshError(
      ErrorCodes.WATCH_PATH_INVALID,
      `output must be another folder than the watched one (${w.path}); use a subfolder or a folder elsewhere`
    )
  }
  if (w.moveTo === w.path) {
    throw new FfmeshError(
      ErrorCodes.WATCH_PATH_INVALID,
      `moveTo must be another folder than the watched one (${w.path})`
    )
  }
  return w
}
