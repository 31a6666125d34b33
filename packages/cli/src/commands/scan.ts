import { TERMINAL_JOB_STATES, type ErrorBody, type ScanReport } from '@ffmesh/protocol'
import { streamsFull, type ControlClient } from '../client.js'
import { connect } from '../context.js'
import { noteTo } from '../live-progress.js'
import { waitingForNodeSaying, type NodeCall } from '../node-return.js'
import { EXIT_FAILED, EXIT_OK, printJson } from '../report-error.js'
import { scanPlanTable } from '../tables.js'
import { libraryFields, type LibraryOptions } from './library.js'

export interface ScanOptions extends LibraryOptions { dryRun?: boolean, wait?: boolean }

/** `scan --json`: counts of files, and each skipped or failed file with its reason. */
export interface ScanResult {
  found: number
  submitted: number
  skipped: Array<{ path: string, reason: string }>
  failed: Array<{ path: string, error: ErrorBody }>
  plan?: ScanReport['plan']
}

/** While jobs of the scan are unfinished, their counts are read this often (and on every job end). */
const WAIT_POLL_MS = 2_000

/** Waits until no job of the batch is unfinished: counts only, never the jobs themselves. */
async function waitForBatch (client: ControlClient, batch: string, call: NodeCall, signal: AbortSignal): Promise<void> {
  // With every stream of the node taken, the counts read every WAIT_POLL_MS still end the wait.
  const events = await call(async () => await client.openEvents({ signal })).catch((err: unknown) => {
    if (streamsFull(err)) return null
    throw err
  })
  const waker: { wake: (() => void) | null } = { wake: null }
  void (async () => {
    if (events == null) return
    for await (const e of events) {
      if (e.type === 'job:done' || e.type === 'job:failed' || e.type === 'job:skipped' || e.type === 'job:cancelled') {
        waker.wake?.()
      }
    }
  })()
  try {
    for (;;) {
      // A node restarted meanwhile has stopped this stream; the counts, read on, still end the wait.
      const summary = await call(async () => await client.jobSummary({ batch, signal }))
      const open = Object.entries(summary.byState)
        .filter(([state]) => !TERMINAL_JOB_STATES.includes(state as never))
        .reduce((n, [, count]) => n + count, 0)
      if (open === 0 || signal.aborted) return
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, WAIT_POLL_MS)
        waker.wake = () => { clearTimeout(timer); resolve() }
      })
    }
  } finally {
    events?.close()
  }
}

/** After --wait: a submitted file counts as submitted if its job converted it, else as skipped or failed. */
async function settle (
  client: ControlClient,
  report: ScanReport,
  call: NodeCall,
  signal: AbortSignal
): Promise<ScanResult> {
  const result: ScanResult = {
    found: report.found,
    submitted: 0,
    skipped: [...report.skipped],
    failed: [...report.failed]
  }
  if (report.submitted.length === 0) return result
  const jobs = await call(async () => await client.listJobs({ signal, query: { batch: report.batch } }))
  for (const job of jobs) {
    if (job.state === 'done') result.submitted++
    else if (job.state === 'skipped') result.skipped.push({ path: job.source, reason: job.reason?.code ?? 'UNKNOWN' })
    else {
      result.failed.push({
        path: job.source,
        error: job.error ?? { code: 'JOB_CANCELLED', message: `job ${job.id} was ${job.state}` }
      })
    }
  }
  return result
}

export async function scanCommand (dir: string, opts: ScanOptions, signal: AbortSignal): Promise<number> {
  const client = await connect(opts.dataDir)
  const report = await client.scan({ ...libraryFields(dir, opts), dryRun: opts.dryRun === true }, { signal })
  let result: ScanResult = {
    found: report.found,
    submitted: report.submitted.length,
    skipped: report.skipped,
    failed: report.failed,
    ...(report.plan != null ? { plan: report.plan } : {})
  }
  if (opts.wait === true && opts.dryRun !== true && report.submitted.length > 0) {
    if (opts.json !== true) {
      process.stdout.write(
        `found ${report.found} media files; ${report.submitted.length} queued, waiting for them to end\n`
      )
    }
    const call = waitingForNodeSaying(noteTo(null), signal)
    await waitForBatch(client, report.batch, call, signal)
    result = await settle(client, report, call, signal)
  }
  if (opts.json === true) printJson(result)
  else {
    if (result.plan != null) process.stdout.write(scanPlanTable(result.plan) + '\n')
    const verb = opts.dryRun === true ? 'would convert' : opts.wait === true ? 'converted' : 'queued'
    const count =
      opts.dryRun === true ? (result.plan ?? []).filter(e => e.action === 'convert').length : result.submitted
    process.stdout.write(
      `found ${result.found} media files: ${verb} ${count}, skipped ${result.skipped.length}, failed ${result.failed.length}\n`
    )
    if (opts.dryRun !== true) {
      for (const f of result.failed) process.stdout.write(`failed  ${f.path}: ${f.error.code}: ${f.error.message}\n`)
    }
  }
  return result.failed.length > 0 ? EXIT_FAILED : EXIT_OK
}
