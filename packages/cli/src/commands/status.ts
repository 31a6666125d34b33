import { ErrorCodes, FfmeshError, isFfmeshError, type JobStatus } from '@ffmesh/protocol'
import type { ControlClient } from '../client.js'
import { connect, resolveJobId } from '../context.js'
import { followJobs } from '../follow-jobs.js'
import { createLiveProgress } from '../live-progress.js'
import { EXIT_FAILED, EXIT_OK, printJson } from '../report-error.js'
import { jobDetail, jobsTable, meshJobsTable } from '../tables.js'

export interface StatusOptions { dataDir?: string, json?: boolean, watch?: boolean, mesh?: boolean }

/** A job from this node's own store, else from whichever node of the mesh owns it. */
async function anyJob (client: ControlClient, id: string, signal: AbortSignal): Promise<JobStatus> {
  try {
    return await client.getJob(id, { signal })
  } catch (err) {
    if (!isFfmeshError(err) || err.code !== ErrorCodes.JOB_NOT_FOUND) throw err
    return await client.meshJob(id, { signal })
  }
}

export async function statusCommand (job: string | undefined, opts: StatusOptions, signal: AbortSignal): Promise<number> {
  if (opts.mesh === true && opts.watch === true) throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, '--watch follows the jobs of this node; --mesh lists every job in the mesh once (run it again to refresh)')
  const client = await connect(opts.dataDir)
  const id = job != null ? await resolveJobId(client, job, { mesh: true }) : undefined

  if (opts.watch === true) {
    // --json --watch prints one JSON document per line per change (NDJSON), for tools that follow.
    const progress = opts.json === true ? null : createLiveProgress()
    const onUpdate = (jobs: JobStatus[]): void => {
      if (progress != null) progress.update(jobs)
      else process.stdout.write(JSON.stringify(id != null ? jobs[0] : jobs) + '\n')
    }
    const final = await followJobs(client, id != null ? [id] : null, { onUpdate, until: id != null ? 'terminal' : 'forever', signal })
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
    const jobs = await client.meshJobs({}, { signal })
    if (opts.json === true) printJson(jobs)
    else process.stdout.write(jobs.length === 0 ? 'no jobs in the mesh\n' : meshJobsTable(jobs) + '\n')
    return EXIT_OK
  }
  const jobs = await client.listJobs({ signal })
  if (opts.json === true) printJson(jobs)
  else process.stdout.write(jobs.length === 0 ? 'no jobs\n' : jobsTable(jobs) + '\n')
  return EXIT_OK
}
