/**
 * bench/library: point a node at a library of N small media files (10,000 by default) in 100
 * folders and time `ffmesh scan` until every file is queued, with the node's peak resident memory
 * (VmHWM), the job log's bytes per job, the node log's bytes per job, a listing of the jobs as
 * `ffmesh status` shows them to people, a rescan of the unchanged tree, and the same tree added as a
 * library (watched for changes) into another folder, 10,000 more jobs. While the scan runs the
 * node already plans and converts the oldest jobs, a few at a time, as it would for a user.
 * Goal: the scan under 60 s and the node under 300 MB on this 2-core machine.
 *
 *   node --experimental-strip-types bench/library.ts [--files 10000] [--poll] [--keep]
 *
 * --poll adds the library with `--poll` (no change notifications, as for a network mount).
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { benchTempDir, removeBenchTempDir } from './lib/cleanup.ts'
import { makeNodeDir, removeNodeDir } from './lib/node-dirs.ts'
import { FFMESH_BIN, ffmeshJson, startNodeProcess } from './lib/node-processes.ts'
import { argFlag, argNumber, commandLine, goal, loadNote, printTable, seconds } from './lib/report.ts'

const run = promisify(execFile)
/** The goal for 10,000 files on the 2-core machine. */
const GOAL_SCAN_MS = 60_000
const GOAL_RSS_BYTES = 300 * 1024 * 1024
const FOLDERS = 100
const POLL_MS = 250

async function duBytes (dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', dir])
  return Number(stdout.split('\t')[0])
}

/** Peak and current resident memory of a process, from /proc/PID/status (kB there). */
async function memory (pid: number): Promise<{ peak: number, now: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024
  return { peak: kb('VmHWM'), now: kb('VmRSS') }
}

async function timed<T> (fn: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const t0 = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - t0 }
}

async function main (): Promise<void> {
  const files = argNumber('files', 10_000)
  console.log(`bench/library: scan and queue ${files} files in ${FOLDERS} folders; ${loadNote()}`)
  const work = await benchTempDir('ffm-lib-bench-')
  const { dir: dataDir } = await makeNodeDir({ name: 'library', slots: 1, mesh: { enabled: false, mdns: false } })
  const lib = path.join(work, 'library')
  const out = path.join(work, 'converted')
  try {
    // One tiny H.264 clip, copied: what is measured is the scan and the queue, not ffmpeg.
    const sample = path.join(work, 'sample.mp4')
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=64x48:r=10:d=0.5',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      sample
    ])
    for (let f = 0; f < FOLDERS; f++) {
      await fs.mkdir(path.join(lib, `folder-${String(f).padStart(3, '0')}`), { recursive: true })
    }
    for (let i = 0; i < files; i++) {
      await fs.copyFile(
        sample,
        path.join(lib, `folder-${String(i % FOLDERS).padStart(3, '0')}`, `clip-${String(i).padStart(5, '0')}.mp4`)
      )

    }
    const node = await startNodeProcess(dataDir, null)
    try {
      const pid = node.child.pid as number
      const atStart = await memory(pid)
      const dbBefore = await duBytes(path.join(dataDir, 'db'))
      const scan = await timed(() =>
        ffmeshJson<{ found: number; submitted: number; failed: unknown[] }>(dataDir, [
          'scan',
          lib,
          '--profile',
          'video=h265',
          '--out',
          out
        ])
      )
      const afterScan = await memory(pid)
      const dbBytes = await duBytes(path.join(dataDir, 'db')) - dbBefore
      if (scan.value.submitted !== files) {
        throw new Error(
          `the scan queued ${scan.value.submitted} of ${files} files (failed: ${JSON.stringify(scan.value.failed.slice(0, 3))})`
        )
      }
      const listing = await timed(() =>
        run(process.execPath, [FFMESH_BIN, 'status', '--data-dir', dataDir], { maxBuffer: 16 << 20 })
      )
      const page = await timed(() => ffmeshJson<unknown[]>(dataDir, ['status', '--state', 'queued', '--limit', '50']))
      const rescan = await timed(() =>
        ffmeshJson<{ submitted: number }>(dataDir, ['scan', lib, '--profile', 'video=h265', '--out', out])
      )
      // The same tree as a library into another folder: 10,000 more jobs, and every folder watched.
      const library = await timed(async () => {
        await ffmeshJson(dataDir, [
          'library',
          'add',
          lib,
          '--profile',
          'video=h265',
          '--out',
          path.join(work, 'converted-library'),
          ...(argFlag('poll') ? ['--poll'] : [])
        ])
        for (;;) {
          const [status] = await ffmeshJson<Array<{ lastScan: { submitted: number } | null }>>(dataDir, [
            'library',
            'list'
          ])
          if (status?.lastScan != null) return status.lastScan
          await sleep(POLL_MS)
        }
      })
      const atEnd = await memory(pid)
      const logBytes = (await fs.stat(path.join(dataDir, 'node.log'))).size
      printTable(
        ['what', 'value'],
        [
          ['files found and queued', `${scan.value.found} / ${scan.value.submitted}`],
          ['scan and queue (s)', seconds(scan.ms)],
          ['node RSS at start (MB)', (atStart.now / 2 ** 20).toFixed(0)],
          ['node peak RSS after the scan (MB)', (afterScan.peak / 2 ** 20).toFixed(0)],
          ['node peak RSS at the end, 20,000 jobs (MB)', (atEnd.peak / 2 ** 20).toFixed(0)],
          ['job log growth in the scan (bytes per job)', (dbBytes / files).toFixed(0)],
          ['node log, whole run (bytes per job)', (logBytes / (2 * files)).toFixed(1)],
          ['`ffmesh status` for people (s)', seconds(listing.ms)],
          ['`status --state queued --limit 50 --json` (s)', `${seconds(page.ms)} (${page.value.length} jobs)`],
          ['rescan of the unchanged tree (s)', `${seconds(rescan.ms)} (${rescan.value.submitted} queued)`],
          [
            '`library add` of the tree, watched, first scan (s)',
            `${seconds(library.ms)} (${library.value.submitted} queued)`
          ]
        ]
      )
      console.log(
        `goal: scan under ${GOAL_SCAN_MS / 1000} s and peak RSS under ${GOAL_RSS_BYTES / 2 ** 20} MB: ${goal(scan.ms < GOAL_SCAN_MS && afterScan.peak < GOAL_RSS_BYTES)}`
      )
      console.log(`command: ${commandLine()}`)
    } finally {
      await node.stop()
    }
  } finally {
    if (argFlag('keep')) console.log(`kept ${work} and ${dataDir}`)
    else {
      await removeBenchTempDir(work)
      await removeNodeDir(dataDir)
    }
  }
}

await main()
