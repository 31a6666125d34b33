/**
 * One open of a job log, in a process of its own so that its heap is the log's alone (bench/done-jobs):
 *
 *   node --expose-gc --experimental-strip-types bench/lib/open-job-log.ts store|raw DATA_DIR
 *
 * `store` opens it as a node does (every record read, decoded and checked; the jobs' views built);
 * `raw` reads every record of the same LevelDB without decoding it, the floor for the disk's part.
 * Prints one line of JSON: the milliseconds, the heap the open left after a full GC, the RSS, and
 * what was read.
 */
import { Level } from 'level'
import { dataPaths, jobLogFiles } from '../../packages/node/dist/config/paths.js'
import { openJobStore } from '../../packages/node/dist/store/job-store.js'

const [mode, dir] = process.argv.slice(2)
const gc = (globalThis as { gc?: () => void }).gc
if ((mode !== 'store' && mode !== 'raw') || dir == null || gc == null) {
  console.error('usage: node --expose-gc --experimental-strip-types bench/lib/open-job-log.ts store|raw DATA_DIR')
  process.exit(2)
}

const files = jobLogFiles(dataPaths(dir))
gc()
const heapBefore = process.memoryUsage().heapUsed
const t0 = performance.now()
let read: { jobs: number, units: number } | { records: number, bytes: number }
let close: () => Promise<void>
if (mode === 'store') {
  const store = await openJobStore({ files })
  const views = store.jobs()
  read = { jobs: views.length, units: views.reduce((n, v) => n + v.units.length, 0) }
  close = async () => { await store.close() }
} else {
  const db = new Level<Buffer, Buffer>(files.db, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  let records = 0
  let bytes = 0
  for await (const [key, value] of db.iterator()) {
    records++
    bytes += key.length + value.length
  }
  read = { records, bytes }
  close = async () => { await db.close() }
}
const ms = performance.now() - t0
gc()
const heapBytes = process.memoryUsage().heapUsed - heapBefore
const rssBytes = process.memoryUsage().rss
await close()
console.log(JSON.stringify({ mode, ms, heapBytes, rssBytes, ...read }))
