import fs from 'node:fs/promises'
import path from 'node:path'

/** fsync a file's data, so a rename after it cannot expose a file whose bytes are not on disk. */
export async function fsyncFile (file: string): Promise<void> {
  const handle = await fs.open(file, 'r')
  try { await handle.sync() } finally { await handle.close() }
}

/** fsync a directory, so a rename or link in it survives a power cut. */
export async function fsyncDir (dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r')
  try { await handle.sync() } finally { await handle.close() }
}

/**
 * Links a finished temp file in at `dir/name` without ever overwriting: if the name is taken it
 * tries `name (1).ext`, `name (2).ext`, ... `link` fails with EEXIST instead of replacing, which
 * `rename` would silently do. The temp file stays, so a crash before the caller records the
 * result can be recognised on restart (two links to one inode); the caller removes it after.
 */
export async function linkWithoutOverwrite (tmpFile: string, dir: string, name: string): Promise<string> {
  await fsyncFile(tmpFile)
  const ext = path.extname(name)
  const stem = name.slice(0, name.length - ext.length)
  for (let n = 0; n < 10_000; n++) {
    const candidate = path.join(dir, n === 0 ? name : `${stem} (${n})${ext}`)
    try {
      await fs.link(tmpFile, candidate)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw err
    }
    await fsyncDir(dir)
    return candidate
  }
  throw new Error(`no free name for ${name} in ${dir}`)
}
