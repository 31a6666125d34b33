import type { AreaPut, Sub } from '../store/job-store.js'
import type { LibraryJob } from '../store/records.js'
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
 * One record per source path (and profile and destination, see indexKey), so a rescan stats a file and compares instead
 * of hashing it or
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
 * The records a library job's end writes with its job:done, in one batch: the source's, with its
 * hash when the plan read it whole (a rescan then tells a file merely touched from one changed);
 * and after a --replace swap the output's, at the original's place, so a rescan takes it as handled
 * (and the old name's goes when the extension changed). Keyed by the profile of the source's kind,
 * as the scan that queued the job keyed the source.
 */
export function doneRecords (
  job: {
    id: string
    source: string
    sourceSize: number
    sourceMtimeMs: number
    sourceHash: string | null
    library?: LibraryJob
  },
  output: string,
  stat: { size: number; mtimeMs: number } | null
): AreaPut[] {
  const kind = kindByExtension(job.source)
  const library = job.library
  const profile = kind != null ? library?.profiles[kind] : undefined
  if (library == null || profile == null) return []
  if (!library.replace) {
    if (job.sourceHash == null || library.outRoot == null) return []
    return [
      {
        area: FILE_INDEX_AREA,
        key: indexKey(profile, library.outRoot, job.source),
        value: encodeRecord({ size: job.sourceSize, mtimeMs: job.sourceMtimeMs, jobId: job.id, hash: job.sourceHash })
      }
    ]
  }
  if (stat == null) return []
  const record = {
    area: FILE_INDEX_AREA,
    key: indexKey(profile, null, output),
    value: encodeRecord({ size: stat.size, mtimeMs: stat.mtimeMs, jobId: job.id })
  }
  return output === job.source
    ? [record]
    : [record, { area: FILE_INDEX_AREA, key: indexKey(profile, null, job.source), value: null }]
}
