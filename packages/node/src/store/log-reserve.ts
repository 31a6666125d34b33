import fs from 'node:fs/promises'

/**
 * LevelDB's memtable for the job log. An event is a few KiB at most (a plan of hundreds of units
 * some hundred KiB), so 1 MiB holds thousands; LevelDB's default is 4 MiB. Smaller keeps the room
 * the log needs to finish a write, flush a memtable or recover at open small and bounded.
 */
export const LOG_WRITE_BUFFER_BYTES = 1024 * 1024
/**
 * Below this much free space the job log takes only writes that record what already happened or
 * free space (essential ones); new work is refused with DISK_FULL before it reaches LevelDB. Four
 * memtables: the write-ahead log in use, its flush to a table, and a level-0 compaction's output.
 */
export const LOG_FLOOR_BYTES = 4 * LOG_WRITE_BUFFER_BYTES
/**
 * A file of this size held beside the log and deleted when the disk is at the floor, so essential
 * writes, and LevelDB's recovery when the log is reopened after a failed write (it writes the
 * recovered memtable to a table), find room even when something else filled the disk.
 */
export const LOG_RESERVE_BYTES = 4 * LOG_WRITE_BUFFER_BYTES
/** Zeros written per call while the reserve is made; tmpfs and most filesystems allocate them. */
const FILL_CHUNK_BYTES = 1024 * 1024

export interface LogReserve {
  /** Bytes of the reserve that are not held now (0 when it is whole). */
  missing(): number
  /** Makes the reserve if it is not held and `free` leaves room for it above the floor. */
  ensure(free: number): Promise<boolean>
  /** Deletes the reserve, giving its bytes to the log. */
  release(): Promise<void>
}

export async function createLogReserve (init: { file: string, bytes?: number }): Promise<LogReserve> {
  const bytes = init.bytes ?? LOG_RESERVE_BYTES
  const tmp = `${init.file}.tmp`
  await fs.rm(tmp, { force: true })
  let held = await fs.stat(init.file).then(s => s.size === bytes, () => false)
  return {
    missing: () => held ? 0 : bytes,
    async ensure (free) {
      if (held) return true
      if (free < bytes + LOG_FLOOR_BYTES) return false
      const zeros = Buffer.alloc(Math.min(FILL_CHUNK_BYTES, bytes))
      try {
        const handle = await fs.open(tmp, 'w', 0o600)
        try {
          for (let written = 0; written < bytes; written += zeros.length) {
            await handle.write(zeros, 0, Math.min(zeros.length, bytes - written))
          }
          await handle.sync()
        } finally {
          await handle.close()
        }
        await fs.rename(tmp, init.file)
        held = true
      } catch {
        // The disk filled while it was written: no reserve yet; the next look tries again.
        await fs.rm(tmp, { force: true })
      }
      return held
    },
    async release () {
      held = false
      await fs.rm(init.file, { force: true })
    }
  }
}
