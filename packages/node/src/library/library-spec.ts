import { constants } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import {
  ErrorCodes,
  FfmeshError,
  MediaKinds,
  type KindProfiles,
  type LibraryRules,
  type MediaKind,
  type Profile
} from '@ffmesh/protocol'
import { isInside } from '../watch/watch-filter.js'
import { knownProfile } from '../jobs/owner/profile-table.js'

/** A library or a one-shot scan, checked and resolved: absolute paths, profiles found. */
export interface LibrarySpec {
  root: string
  profiles: KindProfiles
  /** The profile for each kind the library converts. */
  table: Partial<Record<MediaKind, Profile>>
  output: string | null
  replace: boolean
  include: string[]
  exclude: string[]
  rules: LibraryRules
}

const absolute = (what: string, p: string): string => {
  if (p.includes('\0') || !path.isAbsolute(p)) {
    throw new FfmeshError(
      ErrorCodes.LIBRARY_PATH_INVALID,
      `the library's ${what} must be an absolute path, got "${p.replaceAll('\0', '\\0')}"`
    )
  }
  return path.resolve(p)
}

/** Checks what a person gave; throws with a code naming what to change. */
export async function resolveLibrary (
  input: {
    path: string
    profiles: KindProfiles
    output?: string
    replace: boolean
    include: string[]
    exclude: string[]
    rules: LibraryRules
  },
  profiles: Map<string, Profile>
): Promise<LibrarySpec> {
  const root = absolute('path', input.path)
  const isDir = await fs.stat(root).then(
    s => s.isDirectory(),
    () => false
  )
  if (!isDir) {
    throw new FfmeshError(
      ErrorCodes.LIBRARY_PATH_INVALID,
      `${root} is not an existing folder; check the path (is the disk mounted?)`
    )
  }
  // The service's own user may see a folder it cannot list; the scan would then fail at its first read.
  await fs.access(root, constants.R_OK | constants.X_OK).catch((err: NodeJS.ErrnoException) => {
    throw new FfmeshError(
      ErrorCodes.LIBRARY_PATH_INVALID,
      `cannot read the folder ${root} (${err.code ?? 'no access'}); give the node's user read access to it`
    )
  })
  const output = input.output != null ? absolute('output folder', input.output) : null
  if (output != null && isInside(output, root)) {
    throw new FfmeshError(
      ErrorCodes.LIBRARY_PATH_INVALID,
      `the output folder ${output} holds the library itself; choose a folder inside it or elsewhere`
    )
  }
  const table: Partial<Record<MediaKind, Profile>> = {}
  for (const kind of MediaKinds) {
    const name = input.profiles[kind]
    if (name == null) continue
    const profile = knownProfile(profiles, name, ` (for ${kind})`)
    if (profile.kind !== kind) {
      throw new FfmeshError(
        ErrorCodes.PROFILE_MISMATCH,
        `profile "${name}" converts ${profile.kind}, not ${kind}; give it as ${profile.kind}=${name}`
      )
    }
    table[kind] = profile
  }
  return {
    root,
    profiles: input.profiles,
    table,
    output,
    replace: input.replace,
    include: input.include,
    exclude: input.exclude,
    rules: input.rules
  }
}
