import path from 'node:path'
import { connect } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'
import { watchesTable } from '../tables.js'

export interface WatchOptions { dataDir?: string, json?: boolean }

export async function watchAddCommand (
  dir: string,
  opts: WatchOptions & { profile: string; out: string; recursive?: boolean },
  signal: AbortSignal
): Promise<number> {
  const client = await connect(opts.dataDir)
  const watch = await client.addWatch(
    { path: path.resolve(dir), profile: opts.profile, output: path.resolve(opts.out), recursive: opts.recursive },
    { signal }
  )
  if (opts.json === true) printJson(watch)
  else process.stdout.write(`watching ${watch.path} (${watch.profile} -> ${watch.output})\n`)
  return EXIT_OK
}

export async function watchListCommand (opts: WatchOptions, signal: AbortSignal): Promise<number> {
  const watches = await (await connect(opts.dataDir)).watches({ signal })
  if (opts.json === true) printJson(watches)
  else process.stdout.write(watches.length === 0 ? 'no watched folders\n' : watchesTable(watches) + '\n')
  return EXIT_OK
}

export async function watchRemoveCommand (dir: string, opts: WatchOptions, signal: AbortSignal): Promise<number> {
  const resolved = path.resolve(dir)
  await (await connect(opts.dataDir)).removeWatch(resolved, { signal })
  if (opts.json === true) printJson({ removed: resolved })
  else process.stdout.write(`stopped watching ${resolved}\n`)
  return EXIT_OK
}
