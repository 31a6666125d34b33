import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Mounting a filesystem needs root; tests that need a small full disk skip without it, saying so. */
export const CAN_MOUNT = process.getuid?.() === 0
export const NO_MOUNT_REASON = 'needs root to mount a small tmpfs (a disk that can be filled); skipped'

/** Chunks the filler writes: large while there is room, then a page at a time to the last byte. */
const FILL_CHUNKS = [1024 * 1024, 4096]

/** A small real disk: a tmpfs of `sizeMiB`, filled and freed by the test. */
export interface SmallDisk {
  dir: string
  /**
   * Writes a filler file until the filesystem refuses (ENOSPC), then gives back `leave` bytes; returns the bytes it
   * holds.
   */
  fill(options?: { leave?: number }): Promise<number>
  /** Removes every filler file. */
  free(): Promise<void>
  freeBytes(): Promise<number>
  unmount(): Promise<void>
}

/** Mounts a tmpfs at a new temp dir named `prefix…` (mode 0700, as a data dir must be). */
export async function mountSmallDisk (prefix: string, sizeMiB: number): Promise<SmallDisk> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir])
  let fillers = 0
  return {
    dir,
    async fill (options = {}) {
      const file = path.join(dir, `filler-${++fillers}`)
      const handle = await fs.open(file, 'w')
      let written = 0
      try {
        for (const size of FILL_CHUNKS) {
          const chunk = Buffer.alloc(size)
          for (;;) {
            try {
              const { bytesWritten } = await handle.write(chunk)
              written += bytesWritten
              if (bytesWritten < size) break
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break
              throw err
            }
          }
        }
      } finally {
        await handle.close()
      }
      const leave = Math.min(options.leave ?? 0, written)
      if (leave > 0) await fs.truncate(file, written - leave)
      return written - leave
    },
    async free () {
      for (const name of await fs.readdir(dir)) {
        if (name.startsWith('filler-')) await fs.rm(path.join(dir, name), { force: true })
      }
    },
    async freeBytes () {
      const s = await fs.statfs(dir)
      return s.bavail * s.bsize
    },
    async unmount () {
      await run('umount', [dir]).catch(async () => await run('umount', ['-l', dir]))
      await fs.rm(dir, { recursive: true, force: true })
    }
  }
}
