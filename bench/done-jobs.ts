/**
 * bench/done-jobs: what the job log costs a node after weeks of converting a library. Every job a
 * node converted stays in its log and in its memory; a done job keeps its units (each with its
 * spec, its profile and its tries) for jobs.doneUnitsRetentionSeconds, then only the totals that
 * `ffmesh stats` counts. Measured: the time to open the log and the heap its jobs hold, for N done
 * jobs with their units and for the same jobs with their units let go.
 *
 * The jobs are copies of one real job: a lone node cuts a generated 80 s clip into 2 s segments
 * (about 40 units, as a 40-minute episode has in the default 60 s segments) and converts it; its
 * logged events are appended again under new ids and file names, then a copy of that log is
 * compacted by the node's own retention sweep. Each open runs in a Node process of its own (heap
 * after a full GC), interleaved over rounds, beside a baseline in the same run: the same LevelDB
 * read record by record without decoding.
 *
 *   node --experimental-strip-types bench/done-jobs.ts [--jobs 2000] [--rounds 3]
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { newJobId } from '../packages/protocol/dist/index.js'
import { ConfigSchema, startNode } from '../packages/node/dist/index.js'
import { dataPaths, jobLogFiles } from '../packages/node/dist/config/paths.js'
import { createRetention } from '../packages/node/dist/jobs/owner/retention.js'
import type { JobComponents } from '../packages/node/dist/jobs/shared/deps.js'
import { openJobStore } from '../packages/node/dist/store/job-store.js'
import type { JobEvent } from '../packages/node/dist/store/records.js'
import { benchTempDir, removeBenchTempDir } from './lib/cleanup.ts'
import { makeNodeDir, removeNodeDir } from './lib/node-dirs.ts'
import { argNumber, commandLine, loadNote, median, printTable, seconds } from './lib/report.ts'
import { makeBenchSample } from './lib/samples.ts'

const run = promisify(execFile)
const OPEN_SCRIPT = fileURLToPath(new URL('./lib/open-job-log.ts', import.meta.url))
const SAMPLE = { width: 320, height: 180, seconds: 80 }
const SEGMENT_SECONDS = 2
const JOB_TIMEOUT_MS = 10 * 60_000
const DAY_MS = 24 * 3600 * 1000
const MB = 2 ** 20

interface Opened { ms: number, heapBytes: number, rssBytes: number, jobs?: number, units?: number, records?: number }

/** Converts the sample on a lone node that cuts it into segments; returns the job's logged events. */
async function realJob (source: string, outDir: string): Promise<{ events: JobEvent[], jobId: string }> {
  const { dir } = await makeNodeDir({
    name: 'done-jobs',
    slots: 2,
    segmentSeconds: SEGMENT_SECONDS,
    cut: 'segments',
    mesh: { enabled: false, mdns: false }
  })
  try {
    const node = await startNode({ dataDir: dir, logger: pino({ level: 'silent' }) })
    let jobId: string | null = null
    try {
      let timer: NodeJS.Timeout | undefined
      const ended = new Promise<string>((resolve, reject) => {
        node.api.onEvent(e => {
          if (e.jobId === jobId && (e.type === 'job:done' || e.type === 'job:failed')) resolve(e.type)
        })
        timer = setTimeout(() => reject(new Error('the sample job did not end within 10 min')), JOB_TIMEOUT_MS)
      })
      jobId = (await node.api.submit({ source, profile: 'h264', outDir })).id
      const end = await ended.finally(() => clearTimeout(timer))
      if (end !== 'job:done') {
        throw new Error(`the sample job ended ${end}: ${JSON.stringify(node.api.getJob(jobId).error)}`)
      }
    } finally {
      await node.stop()
    }
    const store = await openJobStore({ files: jobLogFiles(dataPaths(dir)) })
    try {
      return { events: (await store.history(jobId)).map(e => e.event), jobId }
    } finally {
      await store.close()
    }
  } finally {
    await removeNodeDir(dir)
  }
}

/**
 * A log of `count` copies of one job's events, each under a new id and its own file names (the
 * source's name stands in every path, its output's too), one synced batch per job.
 */
async function writeCopies (
  dir: string,
  job: { events: JobEvent[], jobId: string },
  source: string,
  count: number
): Promise<void> {
  const text = JSON.stringify(job.events)
  const name = path.basename(source, path.extname(source))
  const store = await openJobStore({ files: jobLogFiles(dataPaths(dir)) })
  try {
    for (let i = 0; i < count; i++) {
      const jobId = newJobId()
      const events = JSON.parse(text.replaceAll(job.jobId, jobId).replaceAll(name, `${name}-${i}`)) as JobEvent[]
      await store.appendBatch(events.map(event => ({ jobId, event })))
    }
  } finally {
    await store.close()
  }
}

/** Lets the units of every done job in the log at `dir` go, as the node's retention sweep does after its time. */
async function compact (dir: string): Promise<number> {
  const store = await openJobStore({ files: jobLogFiles(dataPaths(dir)) })
  try {
    const c = {
      config: ConfigSchema.parse({}),
      store,
      clock: () => Date.now() + 31 * DAY_MS,
      logger: pino({ level: 'silent' }),
      events: { emit: () => {} }
    } as unknown as JobComponents
    return await createRetention(c).sweep()
  } finally {
    await store.close()
  }
}

async function open (mode: 'store' | 'raw', dir: string): Promise<Opened> {
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', '--experimental-strip-types', '--no-warnings', OPEN_SCRIPT, mode, dir],
    { maxBuffer: 1 << 20 }
  )
  return JSON.parse(stdout) as Opened
}

async function duBytes (dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', path.join(dir, 'db')])
  return Number(stdout.split('\t')[0])
}

async function main (): Promise<void> {
  const count = Math.max(1, argNumber('jobs', 2000))
  const rounds = Math.max(1, argNumber('rounds', 3))
  console.log(`bench/done-jobs: a job log of ${count} done jobs, units kept and let go; ${loadNote()}`)
  const work = await benchTempDir('ffmesh-bench-done-jobs-')
  try {
    const source = await makeBenchSample(SAMPLE)
    const job = await realJob(source, path.join(work, 'out'))
    const units = job.events.reduce((n, e) => Math.max(n, e.type === 'job:planned' ? e.units.length : 0), 0)
    console.log(`the job copied: ${job.events.length} events, ${units} video units and an audio unit`)
    const kept = path.join(work, 'kept')
    const letGo = path.join(work, 'let-go')
    const t0 = performance.now()
    await writeCopies(kept, job, source, count)
    console.log(`wrote ${count} copies in ${seconds(performance.now() - t0)} s`)
    await fs.cp(kept, letGo, { recursive: true })
    const compacted = await compact(letGo)
    if (compacted !== count) throw new Error(`the retention sweep let the units of ${compacted} of ${count} jobs go`)

    const logs = [
      { label: 'units kept', dir: kept, bytes: await duBytes(kept), runs: [] as Opened[], raw: [] as Opened[] },
      { label: 'units let go', dir: letGo, bytes: await duBytes(letGo), runs: [] as Opened[], raw: [] as Opened[] }
    ]
    for (let round = 1; round <= rounds; round++) {
      for (const log of logs) {
        const raw = await open('raw', log.dir)
        const store = await open('store', log.dir)
        if (store.jobs !== count) throw new Error(`the store opened ${String(store.jobs)} jobs of ${count}`)
        log.raw.push(raw)
        log.runs.push(store)
        console.log(
          `  round ${round}: ${log.label}: open ${seconds(store.ms)} s (raw read ${seconds(raw.ms)} s), ` +
          `heap ${(store.heapBytes / MB).toFixed(0)} MB`
        )
      }
    }

    const heap = (log: typeof logs[number]): number => median(log.runs.map(r => r.heapBytes))
    console.log('')
    printTable(
      ['log', 'on disk (MB)', 'open (s)', 'open / raw read', 'heap (MB)', 'heap per job (KB)', 'RSS (MB)',
        'each round (heap MB)'],
      logs.map(log => [
        log.label,
        (log.bytes / MB).toFixed(0),
        seconds(median(log.runs.map(r => r.ms))),
        median(log.runs.map((r, i) => r.ms / (log.raw[i] as Opened).ms)).toFixed(2),
        (heap(log) / MB).toFixed(0),
        (heap(log) / count / 1024).toFixed(1),
        (median(log.runs.map(r => r.rssBytes)) / MB).toFixed(0),
        log.runs.map(r => (r.heapBytes / MB).toFixed(0)).join(' ')
      ])
    )
    const [full, small] = logs as [typeof logs[number], typeof logs[number]]
    const heapRatio = heap(small) / heap(full)
    console.log(`units let go: ${heapRatio.toFixed(3)} of the heap with units kept (median of ${rounds} rounds)`)
    console.log(`command: ${commandLine()}`)
    console.log(JSON.stringify({
      jobs: count,
      unitsPerJob: units + 1,
      heapKeptBytes: heap(full),
      heapLetGoBytes: heap(small),
      heapRatio
    }))
  } finally {
    await removeBenchTempDir(work)
  }
}

await main()
