import { randomBytes } from 'node:crypto'
import { chmod, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, FfmeshError, MAX_UI_PASSWORD_LENGTH, MIN_UI_PASSWORD_LENGTH } from '@ffmesh/protocol'
import { fsyncDir, fsyncFile } from '../store/durable-fs.js'
import { hashPassword, parsePasswordHash } from './password.js'

/** Like the swarm key: the hash lets an attacker guess offline, so only the node's user reads it. */
const PASSWORD_FILE_MODE = 0o600

/**
 * `ffmesh ui password`: hashes the password and replaces the data dir's `ui-password` file
 * atomically (temp, fsync, rename). A running node notices the new file at its next request and
 * ends every session signed in with the old password.
 */
export async function setUiPassword (file: string, password: string): Promise<void> {
  if (password.length < MIN_UI_PASSWORD_LENGTH) {
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      `the dashboard password must have at least ${MIN_UI_PASSWORD_LENGTH} characters`
    )
  }
  if (password.length > MAX_UI_PASSWORD_LENGTH) {
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      `the dashboard password must have at most ${MAX_UI_PASSWORD_LENGTH} characters`
    )
  }
  const hash = await hashPassword(password)
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeFile(tmp, hash + '\n', { mode: PASSWORD_FILE_MODE, flag: 'wx' })
    await chmod(tmp, PASSWORD_FILE_MODE)
    await fsyncFile(tmp)
    await rename(tmp, file)
    await fsyncDir(path.dirname(file))
  } finally {
    await rm(tmp, { force: true })
  }
}

export interface PasswordState {
  /** The stored hash, or null when no password is set. */
  hash: string | null
  /** Changes whenever the file is replaced or removed. */
  stamp: string
}

/** Reads the password file; a missing file is "no password", a malformed one is an error. */
export async function readPasswordState (file: string): Promise<PasswordState> {
  const stamp = await passwordStamp(file)
  if (stamp === NO_PASSWORD) return { hash: null, stamp }
  const text = await readFile(file, 'utf8')
  if (parsePasswordHash(text) == null) {
    throw new FfmeshError(
      ErrorCodes.CONFIG_INVALID,
      `${file} does not hold a password hash; set the dashboard password again with \`ffmesh ui password\``
    )
  }
  return { hash: text.trim(), stamp }
}

const NO_PASSWORD = 'none'

/** Identifies the file's current version without reading it: what each request checks. */
export async function passwordStamp (file: string): Promise<string> {
  try {
    const info = await stat(file)
    return `${info.ino}:${info.size}:${info.mtimeMs}`
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return NO_PASSWORD
    throw err
  }
}
