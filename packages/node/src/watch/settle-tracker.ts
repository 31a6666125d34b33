import { stat } from 'node:fs/promises'

export interface FileShape { size: number, mtimeMs: number }

/**
 * Waits until a file's size and mtime have stayed the same for `settleMs` before handing it on,
 * so a file still being copied or downloaded in pieces is submitted once, complete.
 * Every event about a file restarts its wait; the wait ends only when a fresh stat equals the
 * one taken at the last event.
 */
export interface SettleTracker {
  observe(file: string): void
  forget(file: string): void
  /** Files waiting to settle. */
  readonly pending: number
  clear(): void
}

interface Waiting { shape: FileShape | null, timer: NodeJS.Timeout | null, generation: number }

export function createSettleTracker (init: {
  settleMs: number
  onSettled: (file: string, shape: FileShape) => void
}): SettleTracker {
  const waiting = new Map<string, Waiting>()

  const shapeOf = async (file: string): Promise<FileShape | null> => {
    try {
      const s = await stat(file)
      return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : null
    } catch {
      return null
    }
  }

  const arm = (file: string, entry: Waiting): void => {
    if (entry.timer != null) clearTimeout(entry.timer)
    const generation = entry.generation
    entry.timer = setTimeout(() => {
      void check(file, entry, generation)
    }, init.settleMs)
  }

  const check = async (file: string, entry: Waiting, generation: number): Promise<void> => {
    const now = await shapeOf(file)
    // A newer event re-armed the wait while we were statting: that one decides.
    if (waiting.get(file) !== entry || entry.generation !== generation) return
    if (now == null) {
      waiting.delete(file)
      return
    }
    if (entry.shape != null && now.size === entry.shape.size && now.mtimeMs === entry.shape.mtimeMs) {
      waiting.delete(file)
      init.onSettled(file, now)
      return
    }
    entry.shape = now
    entry.generation++
    arm(file, entry)
  }

  return {
    get pending () {
      return waiting.size
    },
    observe (file) {
      let entry = waiting.get(file)
      if (entry == null) {
        entry = { shape: null, timer: null, generation: 0 }
        waiting.set(file, entry)
      }
      entry.generation++
      const current = entry
      const generation = current.generation
      void shapeOf(file).then(shape => {
        if (waiting.get(file) !== current || current.generation !== generation) return
        if (shape == null) {
          waiting.delete(file)
          return
        }
        current.shape = shape
        arm(file, current)
      })
    },
    forget (file) {
      const entry = waiting.get(file)
      if (entry?.timer != null) clearTimeout(entry.timer)
      waiting.delete(file)
    },
    clear () {
      for (const entry of waiting.values()) if (entry.timer != null) clearTimeout(entry.timer)
      waiting.clear()
    }
  }
}
