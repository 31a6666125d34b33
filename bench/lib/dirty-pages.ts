/**
 * The kernel's dirty page cache over a run: data written but not yet on disk, from /proc/meminfo.
 * An fsync (a blob's import, an output's placement, the job log) may have to wait for much of it
 * to reach the disk, so a wait at the end of a job beside a large peak points at writeback, and one
 * beside a small peak rules it out.
 */
import fs from 'node:fs'

export interface DirtyPages {
  /** Stops sampling and describes the run: the peak, when it was, and what was left at the end. */
  stop(): string
}

/** The Dirty line of /proc/meminfo in MB, or null when the file has no such line. */
function dirtyMB (): number | null {
  const match = /^Dirty:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))
  return match == null ? null : Number(match[1]) / 1024
}

/** Samples the dirty page cache every `intervalMs` from now until stop(). */
export function sampleDirtyPages (intervalMs = 1000): DirtyPages {
  const t0 = performance.now()
  let peak = { mb: dirtyMB() ?? 0, atSec: 0 }
  const sample = (): number => {
    const mb = dirtyMB() ?? 0
    if (mb > peak.mb) peak = { mb, atSec: (performance.now() - t0) / 1000 }
    return mb
  }
  const timer = setInterval(sample, intervalMs)
  timer.unref()
  return {
    stop () {
      clearInterval(timer)
      const end = sample()
      return `dirty page cache (written, not yet on disk): peak ${peak.mb.toFixed(0)} MB at ${peak.atSec.toFixed(1)} s, ${end.toFixed(0)} MB at the end`
    }
  }
}
