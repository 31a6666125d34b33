import fs from 'node:fs/promises'

/** Bytes available to this (unprivileged) process on the file system holding `dir`. */
export async function freeDiskBytes (dir: string): Promise<number> {
  const s = await fs.statfs(dir)
  return s.bavail * s.bsize
}
