import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes, newJobId, type JobStatus } from '@ffmesh/protocol'
import { dataPaths } from '../packages/node/src/config/paths.js'
import type { RepairReport } from '../packages/node/src/store/repair.js'
import { jobRecord, openTestStore, unitRecord } from './fixtures/job-log.js'
import { ffmesh, ffmeshJson, startNodeProcess } from './helpers/node-harness.js'

/**
 * A damaged job log, as a person meets it: the node refuses to start with STORE_CORRUPT, `ffmesh
 * repair` saves what can be read and says what was lost, the node starts after it, and neither
 * step deletes a blob or an output. The logs are real LevelDB, written through the job store as a
 * node writes them, then damaged on disk the way a crash, a bad disk or a person would.
 */
let root: string
beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-fd-damage-')) })
afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

/** Every file under blobs/ and the output folder, with its size: what must survive untouched. */
async function keptFiles (dataDir: string, outDir: string): Promise<string[]> {
  const list = async (dir: string): Promise<string[]> =>
    (await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []))
      .filter(e => e.isFile())
      .map(e => path.join(e.parentPath, e.name))
  const files = [...await list(dataPaths(dataDir).blobs), ...await list(outDir)]
  return await Promise.all(files.sort().map(async f => `${f} ${(await fs.stat(f)).size}`))
}

/**
 * A data dir made by `ffmesh init` whose log holds `jobs` done jobs (plans of 60 units, so the log
 * spans several blocks and tables), each with a blob and an output, plus one blob the log never
 * named; with `tables`, the log was reopened once so its records sit in table files.
 */
async function dataDirWithJobs (
  name: string,
  jobs: number,
  tables: boolean
): Promise<{ dataDir: string; outDir: string; ids: string[] }> {
  const dataDir = path.join(root, name)
  const outDir = path.join(root, `${name}-out`)
  const init = await ffmesh(['init', '--data-dir', dataDir])
  expect(init.code, init.stderr).toBe(0)
  await fs.writeFile(
    dataPaths(dataDir).config,
    'log:\n  level: info\nmesh:\n  enabled: false\nworker:\n  slots: 1\n  minFreeDisk: 0\n'
  )
  await fs.mkdir(outDir, { recursive: true })
  const store = await openTestStore(dataDir)
  const ids: string[] = []
  for (let n = 0; n < jobs; n++) {
    const id = newJobId()
    ids.push(id)
    const blob = Buffer.from(`piece of job ${id}`)
    const hash = createHash('sha512').update(blob).digest('hex')
    const blobFile = path.join(dataPaths(dataDir).blobs, hash.slice(0, 2), hash)
    await fs.mkdir(path.dirname(blobFile), { recursive: true })
    await fs.writeFile(blobFile, blob)
    const output = path.join(outDir, `clip-${n}.h264.mkv`)
    await fs.writeFile(output, `output of ${id}`)
    const units = Array.from({ length: 60 }, (_, i) => ({
      ...unitRecord(id, i),
      inputPaths: [blobFile],
      spec: { ...unitRecord(id, i).spec, inputs: [{ hash, size: blob.length }] }
    }))
    await store.append(id, {
      type: 'job:submitted',
      job: jobRecord(id, { outDir, source: path.join(root, `clip-${n}.mp4`) })
    })
    await store.append(id, { type: 'job:planned', sourceHash: null, units })
    for (const u of units) {
      await store.append(id, { type: 'unit:leased', index: u.index, worker: 'w', attempt: 1, leaseUntil: 1 })
      await store.append(id, {
        type: 'unit:verified',
        index: u.index,
        worker: 'w',
        attempt: 1,
        result: { hash, size: blob.length, frames: 144, durationSec: 6 }
      })
    }
    await store.append(id, { type: 'job:assembling' })
    await store.append(id, { type: 'job:done', output })
  }
  await store.close()
  if (tables) await (await openTestStore(dataDir)).close()
  const stray = path.join(dataPaths(dataDir).blobs, 'ff', 'f'.repeat(128))
  await fs.mkdir(path.dirname(stray), { recursive: true })
  await fs.writeFile(stray, 'a blob the log never named')
  // An input fetched for another owner's unit before the damage: scratch, never synced, so
  // possibly torn by the crash; a start must not keep it, whatever state the log is in.
  await fs.mkdir(path.dirname(staleFetched(dataDir)), { recursive: true })
  await fs.writeFile(staleFetched(dataDir), 'the first half of a fetched piece')
  return { dataDir, outDir, ids }
}

/** Where dataDirWithJobs leaves an input fetched before the damage. */
function staleFetched (dataDir: string): string {
  return path.join(dataPaths(dataDir).fetched, 'ee', 'e'.repeat(128))
}

/** `ffmesh node` on a damaged log: it must exit at once with STORE_CORRUPT, naming the log. */
async function expectRefused (dataDir: string): Promise<void> {
  const r = await ffmesh(['node', '--data-dir', dataDir], { timeoutMs: 60_000 })
  expect(r.code, r.stdout + r.stderr).not.toBe(0)
  expect(r.stderr).toContain(`error ${ErrorCodes.STORE_CORRUPT}:`)
  expect(r.stderr).toContain(dataPaths(dataDir).db)
}

/** Repair, then start the node: it must start, and list what was kept. */
async function repairAndStart (dataDir: string): Promise<{ report: RepairReport, jobs: JobStatus[] }> {
  const r = await ffmesh(['repair', '--data-dir', dataDir, '--json'])
  expect(r.code, r.stderr).toBe(0)
  const report = JSON.parse(r.stdout) as RepairReport
  expect(await fs.stat(report.damagedCopy).then(s => s.isDirectory())).toBe(true)
  const node = await startNodeProcess(dataDir)
  try {
    const jobs = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
    // Repairing once is enough: the loss was recorded, so this start found the log whole.
    expect(node.log()).not.toMatch(/the job log lost records/)
    expect(await fs.stat(staleFetched(dataDir)).then(() => 'kept', () => 'removed')).toBe('removed')
    return { report, jobs }
  } finally {
    await node.stop()
  }
}

describe('a damaged job log is never taken for an empty one', () => {
  it('CURRENT removed: refused, then repaired with every job kept', async () => {
    const { dataDir, outDir, ids } = await dataDirWithJobs('no-current', 2, false)
    const before = await keptFiles(dataDir, outDir)
    await fs.rm(path.join(dataPaths(dataDir).db, 'CURRENT'))
    await expectRefused(dataDir)
    expect(await keptFiles(dataDir, outDir)).toEqual(before)
    const { report, jobs } = await repairAndStart(dataDir)
    expect(report).toMatchObject({ recordsLost: 0, jobsKept: 2, jobsNeedingAttention: [], jobsLost: [] })
    expect(jobs.map(j => [j.id, j.state]).sort()).toEqual(ids.map(id => [id, 'done']).sort())
    expect(await keptFiles(dataDir, outDir)).toEqual(before)
  })

  it('a table file corrupted: refused, then repaired; what was lost is said and nothing is deleted', async () => {
    const { dataDir, outDir } = await dataDirWithJobs('bad-table', 3, true)
    const before = await keptFiles(dataDir, outDir)
    const db = dataPaths(dataDir).db
    const table = (await fs.readdir(db)).filter(n => n.endsWith('.ldb')).sort()[0] as string
    const bytes = await fs.readFile(path.join(db, table))
    for (let i = 0; i < 64; i++) bytes[Math.floor(bytes.length / 2) + i] ^= 0x5a
    await fs.writeFile(path.join(db, table), bytes)
    await expectRefused(dataDir)
    expect(await keptFiles(dataDir, outDir)).toEqual(before)
    const { report, jobs } = await repairAndStart(dataDir)
    // What could not be read is named (by LevelDB, or as records that did not decode), and is
    // either rebuilt from the events that survived or reported lost.
    expect(report.droppedByLevelDb.count + report.unreadableRecords, JSON.stringify(report)).toBeGreaterThan(0)
    expect(
      report.jobsRebuilt.length + report.recordsLost + report.jobsNeedingAttention.length + report.jobsLost.length,
      JSON.stringify(report)
    ).toBeGreaterThan(0)
    // A job the repair could not restore whole is shown as needing attention, not as it was.
    for (const held of report.jobsNeedingAttention) {
      expect(jobs.find(j => j.id === held.id)?.attention).toBe(held.reason)
    }
    expect(await keptFiles(dataDir, outDir)).toEqual(before)
  })

  it('the write-ahead log cut short: refused, then repaired, and the records at its end are reported lost', async () => {
    const { dataDir, outDir, ids } = await dataDirWithJobs('cut-wal', 2, false)
    const before = await keptFiles(dataDir, outDir)
    const db = dataPaths(dataDir).db
    const wal = path.join(
      db,
      (await fs.readdir(db))
        .filter(n => n.endsWith('.log'))
        .sort()
        .at(-1) as string
    )
    await fs.truncate(wal, Math.floor((await fs.stat(wal)).size * 0.75))
    await expectRefused(dataDir)
    expect(await keptFiles(dataDir, outDir)).toEqual(before)
    const { report, jobs } = await repairAndStart(dataDir)
    expect(report.recordsLost).toBeGreaterThan(0)
    // The second job's last records were at the end: it is held, never run again as if whole.
    const second = jobs.find(j => j.id === ids[1])
    expect(second?.state === 'done' || second?.attention != null, JSON.stringify(second)).toBe(true)
    expect(jobs.find(j => j.id === ids[0])?.state).toBe('done')
    expect(await keptFiles(dataDir, outDir)).toEqual(before)
  })
})
