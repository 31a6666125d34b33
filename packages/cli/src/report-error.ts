import { isFfmeshError, toErrorBody } from '@ffmesh/protocol'

/** Exit codes: 0 success, 1 an operation failed (the printed code says which), 2 a usage error, 130 Ctrl-C. */
export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2
/** The shell's convention for a process ended by SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130

/** Prints `error CODE: message` on stderr, or the JSON error document on stdout with --json. */
export function reportError (err: unknown, options: { json?: boolean } = {}): number {
  const body = toErrorBody(err)
  if (!isFfmeshError(err)) {
    // Not one of ours: say what happened without a stack, which helps nobody at a prompt.
    body.message = err instanceof Error ? err.message : String(err)
  }
  if (options.json === true) process.stdout.write(JSON.stringify({ error: body }) + '\n')
  else process.stderr.write(`error ${body.code}: ${body.message}\n`)
  return EXIT_FAILED
}

export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}
