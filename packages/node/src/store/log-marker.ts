import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { fsyncDir } from './durable-fs.js'

/**
 * The job log's marker in the data dir, outside LevelDB (as Syncthing keeps a folder marker): the
 * id of the log this data dir holds, and the last record the log is known to hold. With it a log
 * that is missing, replaced by an empty one, or cut short is told apart from a new data dir,
 * which LevelDB alone cannot do (a missing CURRENT file makes it create an empty database).
 *
 * `seq` is a lower bound: it is written after records are acknowledged (every few seconds and at
 * close), never before, so a log holding fewer records than it says has lost acknowledged ones.
 */
export interface LogMarker {
  id: string
  seq: number
}

/** The file's bytes are JSON: `{"id": ..., "seq": ...}`. */
export async function readLogMarker (file: string): Promise<LogMarker | null> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  try {
    const value = JSON.parse(text) as Partial<LogMarker>
    if (
      typeof value.id === 'string' &&
      value.id !== '' &&
      Number.isSafeInteger(value.seq) &&
      (value.seq as number) >= 0
    ) {
      return value as LogMarker
    }
  } catch {
    // Reported below with what to do.
  }
  throw new FfmeshError(
    ErrorCodes.STORE_CORRUPT,
    `the job log marker ${file} cannot be read; it names the log this data dir holds. If the log itself is fine, run \`ffmesh repair --data-dir ${path.dirname(file)}\` to write a new marker`
  )
}

/** Written whole or not at all (temp, fsync, rename, fsync of the folder). */
export async function writeLogMarker (file: string, marker: LogMarker): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`
  try {
    const handle = await fs.open(tmp, 'w', 0o600)
    try {
      await handle.writeFile(JSON.stringify(marker) + '\n')
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(tmp, file)
  } catch (err) {
    await fs.rm(tmp, { force: true })
    throw err
  }
  await fsyncDir(path.dirname(file))
}

export function newLogId (): string {
  return randomBytes(16).toString('hex')
}
