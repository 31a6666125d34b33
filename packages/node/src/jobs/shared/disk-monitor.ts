import path from 'node:path'
import { humanBytes } from '@ffmesh/protocol'
import type { EventBus } from '../../events.js'
import type { Logger } from '../../logger.js'
import { freeDiskBytes } from '../../store/free-space.js'

/** How often free space is measured (as often as the worker refreshed its capacity before). */
export const DISK_SAMPLE_MS = 2_000
/**
 * A full filesystem counts as free again only this far above the reserve (a tenth of it, at most
 * 64 MiB), so a disk that hovers at the line does not flip the node between held and running,
 * and its adverts with it, at every sample.
 */
export const DISK_OK_MARGIN_MAX_BYTES = 64 * 1024 * 1024

export interface DiskState {
  /** Below the reserve: new work is refused and the node's own units wait. */
  full: boolean
  /** Bytes this node may still use there. */
  free: number
  /** worker.minFreeDisk. */
  reserve: number
  dir: string
  what: 'data dir' | 'output folder'
}

export interface DiskMonitorComponents {
  logger: Logger
  events: EventBus
  /** Free bytes on the filesystem of a path (statfs); replaced in tests. */
  freeBytes?: (dir: string) => Promise<number>
}

export interface DiskMonitorInit {
  dataDir: string
  /** worker.minFreeDisk: the one reserve, for the data dir and every output folder. */
  reserve: number
  /** Output folders of the jobs this node owns that are not finished. */
  outputs: () => string[]
  /** Bytes on the data dir's filesystem spoken for although free (the job log's reserve, while released). */
  spokenFor?: () => number
  intervalMs?: number
}

/** What a person reads in `status` and in a DISK_FULL error. */
export function diskFullMessage (s: DiskState): string {
  return `this node's disk is full: ${humanBytes(s.free)} free on ${s.dir} (the ${s.what}), reserve ${humanBytes(s.reserve)} (worker.minFreeDisk). Free space there; the node goes on by itself`
}

/**
 * Disk space as a state of the node (as etcd's NOSPACE alarm and Syncthing's minDiskFree): free
 * space on the data dir's filesystem and on every output folder in use, measured every few
 * seconds. Below `worker.minFreeDisk` the node refuses submits, holds its own jobs and units,
 * says so in status and in its adverts, and goes on when space returns (node:disk-full, node:disk-ok).
 */
export function createDiskMonitor (c: DiskMonitorComponents, init: DiskMonitorInit) {
  const log = c.logger.child({ component: 'disk' })
  const freeBytes = c.freeBytes ?? freeDiskBytes
  const margin = Math.min(DISK_OK_MARGIN_MAX_BYTES, Math.floor(init.reserve / 10))
  const states = new Map<string, DiskState>()
  let timer: NodeJS.Timeout | undefined

  /** Measures one folder; a folder that cannot be measured (not there yet) keeps its last state. */
  async function sample (dir: string, what: DiskState['what']): Promise<DiskState> {
    const before = states.get(dir)
    let free: number
    try {
      free = await freeBytes(dir)
    } catch {
      return before ?? { full: false, free: Number.MAX_SAFE_INTEGER, reserve: init.reserve, dir, what }
    }
    if (what === 'data dir') free = Math.max(0, free - (init.spokenFor?.() ?? 0))
    const full = before?.full === true ? free < init.reserve + margin : free < init.reserve
    const state: DiskState = { full, free, reserve: init.reserve, dir, what }
    states.set(dir, state)
    if (full !== (before?.full ?? false)) {
      if (full) log.warn({ dir, free, reserve: init.reserve }, `disk full: ${diskFullMessage(state)}`)
      else log.info({ dir, free, reserve: init.reserve }, 'disk space is back above the reserve: going on')
      c.events.emit(full ? 'node:disk-full' : 'node:disk-ok', { data: { dir, what, free, reserve: init.reserve } })
    }
    return state
  }

  async function refresh (): Promise<void> {
    const outputs = new Set(init.outputs().map(d => path.resolve(d)))
    outputs.delete(init.dataDir)
    for (const dir of states.keys()) if (dir !== init.dataDir && !outputs.has(dir)) states.delete(dir)
    await sample(init.dataDir, 'data dir')
    for (const dir of outputs) await sample(dir, 'output folder')
  }

  return {
    async start (): Promise<void> {
      await refresh()
      timer = setInterval(() => {
        refresh().catch(err => log.warn({ err }, 'measuring free disk failed'))
      }, init.intervalMs ?? DISK_SAMPLE_MS)
      timer.unref()
    },
    async stop (): Promise<void> {
      clearInterval(timer)
    },
    refresh,
    /** The data dir's filesystem as last measured. */
    dataDir: (): DiskState =>
      states.get(init.dataDir) ?? {
        full: false,
        free: Number.MAX_SAFE_INTEGER,
        reserve: init.reserve,
        dir: init.dataDir,
        what: 'data dir'
      },
    /** Why work for a job writing to `outDir` must wait: the data dir or that folder is full (null when neither). */
    fullFor (outDir?: string): DiskState | null {
      const data = states.get(init.dataDir)
      if (data?.full === true) return data
      const out = outDir == null ? undefined : states.get(path.resolve(outDir))
      return out?.full === true ? out : null
    },
    /** Measures the data dir and `outDir` now (a submit names a folder that may not be watched yet). */
    async check (outDir: string): Promise<DiskState | null> {
      const data = await sample(init.dataDir, 'data dir')
      if (data.full) return data
      const dir = path.resolve(outDir)
      if (dir === init.dataDir) return null
      const out = await sample(dir, 'output folder')
      return out.full ? out : null
    }
  }
}

export type DiskMonitor = ReturnType<typeof createDiskMonitor>
