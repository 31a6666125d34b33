import type { MediaKind } from '@ffmesh/protocol'
import type { AreaPut, Sub } from '../store/job-store.js'
import { kindByExtension } from './media-kinds.js'

/** What a library remembers of a file it handled: its shape then, the job, its hash if known. */
export interface FileRecord { size: number, mtimeMs: number, jobId: string, hash?: string }

/** The area of the job store the records live in (written in the same batch as the jobs). */
export const FILE_INDEX_AREA = 'library-files'

/**
 * Records are per profile and destination as well as per path: the same tree scanned into another
 * output folder, or with another profile, is new work; the same scan again is not.
 */
export function indexKey (profile: string, output: string | null, file: string): string {
  return `${profile}\0${output ?? 'replace'}\0${file}`
}

/**
 * One record per source path (and profile and destination, see indexKey), so a rescan stats a file and compares instead of hashing it or
 * asking the job log: unchanged files cost one LevelDB read each.
 */
export interface FileIndex {
  get(key: string): Promise<FileRecord | undefined>
  put(key: string, record: FileRecord): Promise<void>
  del(key: string): Promise<void>
  encode(record: FileRecord): string
}

/** Short values: 10,000 records of a library should not cost megabytes. */
function encodeRecord (r: FileRecord): string {
  return JSON.stringify(r.hash != null ? [r.size, r.mtimeMs, r.jobId, r.hash] : [r.size, r.mtimeMs, r.jobId])
}

export function createFileIndex (area: Sub<string>): FileIndex {
  const encode = encodeRecord
  return {
    async get (key) {
      const raw = await area.get(key)
      if (raw == null) return undefined
      try {
        const [size, mtimeMs, jobId, hash] = JSON.parse(raw) as [number, number, string, string | undefined]
        return { size, mtimeMs, jobId, ...(hash != null ? { hash } : {}) }
      } catch {
        return undefined
      }
    },
    put: async (key, record) => { await area.put(key, encode(record)) },
    del: async (key) => { await area.del(key) },
    encode
  }
}

/**
 * After a --replace swap the output sits where the original was: its record, written with
 * job:done in one batch, so a rescan takes it as handled (and forgets the old name if it changed).
 * Keyed by the profile of the source's kind, as the scan that queued the job keyed the source.
 */
export function swapRecords (job: { id: string, source: string, library?: { replace: boolean, profiles: Partial<Record<MediaKind, string>> } }, output: string, stat: { size: number, mtimeMs: number } | null): AreaPut[] {
  const kind = kindByExtension(job.source)
  const profile = kind != null ? job.library?.profiles[kind] : undefined
  if (job.library?.replace !== true || profile == null || stat == null) return []
  const record = { area: FILE_INDEX_AREA, key: indexKey(profile, null, output), value: encodeRecord({ size: stat.size, mtimeMs: stat.mtimeMs, jobId: job.id }) }
  return output === job.source ? [record] : [record, { area: FILE_INDEX_AREA, key: indexKey(profile, null, job.source), value: null }]
}
