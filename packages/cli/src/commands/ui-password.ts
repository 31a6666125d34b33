import { access } from 'node:fs/promises'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { importNodeFile, loadPaths } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'

export interface UiPasswordOptions { dataDir?: string, json?: boolean }

/** Ctrl-C and Ctrl-D in raw mode. */
const CTRL_C = '\u0003'
const CTRL_D = '\u0004'

/** Reads a line from the terminal without echoing it. */
function promptHidden (question: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin
    process.stderr.write(question)
    stdin.setRawMode(true)
    stdin.resume()
    stdin.setEncoding('utf8')
    let text = ''
    const done = (err: Error | null): void => {
      stdin.off('data', onData)
      signal.removeEventListener('abort', onAbort)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      if (err != null) reject(err)
      else resolve(text)
    }
    const onAbort = (): void => {
      done(new FfmeshError(ErrorCodes.BAD_ARGUMENTS, 'interrupted; the password was not changed'))
    }
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(null)
        if (ch === CTRL_C || ch === CTRL_D) return onAbort()
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1)
        else text += ch
      }
    }
    stdin.on('data', onData)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Without a terminal (a script, a test): the first line of standard input. */
async function readFirstLine (): Promise<string> {
  let text = ''
  for await (const chunk of process.stdin) {
    text += String(chunk)
    if (text.includes('\n')) break
  }
  return text.split(/\r?\n/)[0] ?? ''
}

/**
 * `ffmesh ui password`: sets the dashboard's password for this data dir (needed before the
 * dashboard listens on an address other machines reach). Asked twice on a terminal, never echoed;
 * read from the first line of standard input otherwise. Only its scrypt hash is stored.
 */
export async function uiPasswordCommand (opts: UiPasswordOptions, signal: AbortSignal): Promise<number> {
  const { resolveDataDir, dataPaths } = await loadPaths()
  const dataDir = resolveDataDir(opts.dataDir)
  const paths = dataPaths(dataDir)
  try {
    await access(paths.identity)
  } catch {
    throw new FfmeshError(
      ErrorCodes.NOT_INITIALIZED,
      `${dataDir} is not a node's data dir; run \`ffmesh init --data-dir ${dataDir}\` first`
    )
  }
  let password: string
  if (process.stdin.isTTY) {
    password = await promptHidden('New dashboard password: ', signal)
    const again = await promptHidden('Once more: ', signal)
    if (again !== password) {
      throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, 'the two passwords differ; nothing was changed')
    }
  } else {
    password = await readFirstLine()
  }
  const { setUiPassword } = await importNodeFile<{ setUiPassword: (file: string, password: string) => Promise<void> }>(
    './ui/password-file.js'
  )
  await setUiPassword(paths.uiPassword, password)
  if (opts.json === true) printJson({ dataDir, passwordSet: true })
  else {
    process.stdout.write(
      `dashboard password set for ${dataDir}; a running node uses it at once (browsers signed in before sign in again)\n`
    )
  }
  return EXIT_OK
}
