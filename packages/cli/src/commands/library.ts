import path from 'node:path'
import { ErrorCodes, FfmeshError, MediaKinds, type KindProfiles, type MediaKind } from '@ffmesh/protocol'
import { connect } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'
import { librariesTable } from '../tables.js'

export interface LibraryOptions {
  dataDir?: string
  json?: boolean
  profile?: string[]
  out?: string
  replace?: boolean
  include?: string[]
  exclude?: string[]
  minSize?: string
  minBitrate?: string
  minSaving?: string
  keepLarger?: boolean
  poll?: boolean
}

/** `--profile video=h265 --profile audio=opus` → { video: 'h265', audio: 'opus' }. */
export function parseKindProfiles (values: readonly string[] = []): KindProfiles {
  const out: KindProfiles = {}
  for (const value of values) {
    const m = /^([a-z]+)=(.+)$/.exec(value)
    if (m == null || !(MediaKinds as readonly string[]).includes(m[1] as string)) {
      throw new FfmeshError(
        ErrorCodes.BAD_ARGUMENTS,
        `--profile ${value}: write KIND=PROFILE with KIND one of ${MediaKinds.join(', ')} (for example video=h265)`
      )
    }
    const kind = m[1] as MediaKind
    const earlier = out[kind]
    // Two profiles for one kind is a typo or a misunderstanding; taking the last would convert a
    // whole library with a profile the person may not have meant.
    if (earlier != null && earlier !== m[2]) {
      throw new FfmeshError(
        ErrorCodes.BAD_ARGUMENTS,
        `--profile ${value}: ${kind} already has --profile ${kind}=${earlier}; give one profile per kind`
      )
    }
    out[kind] = m[2] as string
  }
  if (Object.keys(out).length === 0) {
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      'give at least one --profile KIND=PROFILE, for example --profile video=h265'
    )
  }
  return out
}

const number = (flag: string, value: string | undefined): number | undefined => {
  if (value == null) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) {
    throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `${flag} takes a number of 0 or more, got "${value}"`)
  }
  return n
}

/** The library fields shared by `library add` and `scan`, from the command line. */
export function libraryFields (dir: string, opts: LibraryOptions) {
  if ((opts.out != null) === (opts.replace === true)) {
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      "give either --out DIR (mirror the tree there) or --replace (put each output in its original's place)"
    )
  }
  if (opts.keepLarger === true && opts.minSaving != null) {
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      '--keep-larger keeps every verified output whatever it saves; leave out --min-saving with it'
    )
  }
  return {
    path: path.resolve(dir),
    profiles: parseKindProfiles(opts.profile),
    ...(opts.out != null ? { output: path.resolve(opts.out) } : { replace: true }),
    include: opts.include ?? [],
    exclude: opts.exclude ?? [],
    rules: {
      minSize: number('--min-size', opts.minSize),
      minBitrateKbps: number('--min-bitrate', opts.minBitrate),
      minSavingPercent: number('--min-saving', opts.minSaving),
      keepLarger: opts.keepLarger === true
    }
  }
}

export async function libraryAddCommand (dir: string, opts: LibraryOptions, signal: AbortSignal): Promise<number> {
  const client = await connect(opts.dataDir)
  const library = await client.addLibrary({ ...libraryFields(dir, opts), poll: opts.poll === true }, { signal })
  if (opts.json === true) printJson(library)
  else {
    process.stdout.write(
      `library ${library.path} added (${Object.entries(library.profiles)
        .map(([k, p]) => `${k}=${p}`)
        .join(' ')} -> ${library.replace ? 'in place' : (library.output ?? '')}); scanning now\n`
    )
  }
  return EXIT_OK
}

export async function libraryListCommand (opts: LibraryOptions, signal: AbortSignal): Promise<number> {
  const libraries = await (await connect(opts.dataDir)).libraries({ signal })
  if (opts.json === true) printJson(libraries)
  else {
    process.stdout.write(
      libraries.length === 0
        ? 'no libraries (add one with `ffmesh library add DIR --profile video=h265 --out DIR`)\n'
        : librariesTable(libraries) + '\n'
    )
  }
  return EXIT_OK
}

export async function libraryRemoveCommand (dir: string, opts: LibraryOptions, signal: AbortSignal): Promise<number> {
  const resolved = path.resolve(dir)
  await (await connect(opts.dataDir)).removeLibrary(resolved, { signal })
  if (opts.json === true) printJson({ removed: resolved })
  else process.stdout.write(`library ${resolved} removed; its jobs and files stay as they are\n`)
  return EXIT_OK
}
