import {
  ErrorCodes,
  FfmeshError,
  isFfmeshError,
  type JobListQuery,
  type JobState,
  type JobStatus
} from '@ffmesh/protocol'
import type { ControlClient } from '../client.js'
import { connect, resolveJobId } from '../context.js'
import { followJobs } from '../follow-jobs.js'
import { createLiveProgress, noteTo } from '../live-progress.js'
import { waitingForNodeSaying } from '../node-return.js'
import { EXIT_FAILED, EXIT_OK, printJson } from '../report-error.js'
import { jobDetail, jobsTable, meshJobsTable, meshSummary, summaryLine } from '../tables.js'

export interface StatusOptions {
  dataDir?: string
  json?: boolean
  watch?: boolean
  mesh?: boolean
  state?: string
  limit?: string
  offset?: string
  newest?: boolean
  all?: boolean
}

/** A job from this node's own store, else from whichever node of the mesh owns it. */
async function anyJob (client: ControlClient, id: string, signal: AbortSignal): Promise<JobStatus> {
  try {
    return await client.getJob(id, { signal })
  } catch (err) {
    if (!isFfmeshError(err) || err.code !== ErrorCodes.JOB_NOT_FOUND) throw err
    return await client.meshJob(id, { signal })
  }
}

/** Jobs `ffmesh status` lists for people when it is given no --limit (the counts cover the rest). */
export const RECENT_JOBS = 20

function pageOf (opts: StatusOptions): JobListQuery | undefined {
  if (opts.state == null && opts.limit == null && opts.offset == null && opts.newest !== true) return undefined
  return {
    state: opts.state,
    limit: opts.limit != null ? Number(opts.limit) : undefined,
    offset: opts.offset != null ? Number(opts.offset) : undefined,
    order: opts.newest === true ? 'newest' : 'oldest'
  }
}

export async function statusCommand (
  job: string | undefined,
  opts: StatusOptions,
  signal: AbortSignal
): Promise<number> {
  if (opts.mesh === true && opts.watch === true) {
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      '--watch follows the jobs of this node; --mesh lists every job in the mesh once (run it again to refresh)'
    )
  }
  const client = await connect(opts.dataDir)
  const id = job != null ? await resolveJobId(client, job, { mesh: true }) : undefined

  if (opts.watch === true) {
    // --json --watch prints one JSON document per line per change (NDJSON), for tools that follow.
    const progress = opts.json === true ? null : createLiveProgress()
    const onUpdate = (jobs: JobStatus[]): void => {
      if (progress != null) progress.update(jobs)
      else process.stdout.write(JSON.stringify(id != null ? jobs[0] : jobs) + '\n')
    }
    const final = await followJobs(client, id != null ? [id] : null, {
      onUpdate,
      until: id != null ? 'terminal' : 'forever',
      signal,
      nodeCall: waitingForNodeSaying(noteTo(progress), signal)
    })
    progress?.stop()
    if (id == null) return EXIT_OK
    if (opts.json !== true) process.stdout.write(jobDetail(final[0]) + '\n')
    return final[0]?.state === 'done' ? EXIT_OK : EXIT_FAILED
  }

  if (id != null) {
    const status = await anyJob(client, id, signal)
    if (opts.json === true) printJson(status)
    else process.stdout.write(jobDetail(status) + '\n')
    return EXIT_OK
  }
  if (opts.mesh === true) {
    if (opts.offset != null || opts.newest === true || (opts.state ?? '').includes(',')) {
      throw new FfmeshError(
        ErrorCodes.BAD_ARGUMENTS,
        "with --mesh, jobs come newest first and take one --state and --limit; --offset, --newest and several states are for this node's jobs"
      )
    }
    const state = opts.state as JobState | undefined
    const limit = opts.limit != null ? Number(opts.limit) : undefined
    if (opts.json === true) {
      printJson(await client.meshJobs({ state, limit }, { signal }))
      return EXIT_OK
    }
    // People get the counts and the newest jobs, as for this node's: a library's mesh holds thousands.
    const [counts, jobs] = await Promise.all([
      client.meshJobCounts({ signal }),
      client.meshJobs({ state, limit: limit ?? RECENT_JOBS }, { signal })
    ])
    process.stdout.write(meshSummary(counts, jobs.length, state) + '\n')
    if (jobs.length > 0) process.stdout.write(meshJobsTable(jobs) + '\n')
    return EXIT_OK
  }
  // --json prints every job (the contract array) unless a page is asked for.
  const page = pageOf(opts)
  if (opts.json === true) {
    printJson(await client.listJobs({ signal, query: page }))
    return EXIT_OK
  }
  const summary = await client.jobSummary({ signal })
  if (summary.total === 0) {
    process.stdout.write('no jobs\n')
    return EXIT_OK
  }
  const query = opts.all === true ? page : (page ?? { limit: RECENT_JOBS, order: 'newest' as const })
  const jobs = await client.listJobs({ signal, query })
  const shown = query?.order === 'newest' ? [...jobs].reverse() : jobs
  const more =
    summary.total > jobs.length
      ? `\n${jobs.length} of ${summary.total} shown; \`ffmesh status --all\` lists every job, --state S --limit N --offset M pages`
      : ''
  process.stdout.write(`${summaryLine(summary)}\n${jobsTable(shown)}${more}\n`)
  return EXIT_OK
}
