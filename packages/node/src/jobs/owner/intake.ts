import fs from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, FfmeshError, newJobId, type Profile } from '@ffmesh/protocol'
import type { SubmitRequest } from '../../control/api.js'
import type { JobRecord } from '../../store/records.js'
import type { JobComponents } from '../shared/deps.js'
import { prepareOutputFolder, removeCreated } from './output-folder.js'
import { diskFullMessage } from '../shared/disk-monitor.js'
import { knownProfile } from './profile-table.js'

/**
 * Intake: checks everything that can be checked at once, so `ffmesh submit` refuses a bad file
 * with a code instead of creating a job that can only fail, then logs `job:submitted`.
 */
export async function submitJob (
  c: JobComponents,
  profiles: Map<string, Profile>,
  req: SubmitRequest,
  options: { signal?: AbortSignal } = {}
): Promise<JobRecord> {
  if (!path.isAbsolute(req.source)) {
    throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `source must be an absolute path, got "${req.source}"`)
  }
  if (req.source.includes('\0')) throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, 'source path contains a NUL byte')
  const profile = knownProfile(profiles, req.profile)
  const stat = await statSource(req.source)
  const outDir = path.resolve(req.outDir ?? c.config.jobs.defaultOutputDir ?? path.dirname(req.source))
  // Below the reserve a submit is refused at once, before the job log is asked to take it.
  const full = await c.disk.check(outDir)
  if (full != null) throw new FfmeshError(ErrorCodes.DISK_FULL, diskFullMessage(full))
  const problem = c.store.problem()
  if (problem != null) throw problem
  const info = await c.media.probeSource(req.source, options)
  c.media.checkProfileFits(info, profile)
  // Last, so a submit refused for its source leaves no new folder behind; undone if the log refuses.
  const created = await prepareOutputFolder(outDir)
  const now = c.clock()
  const job: JobRecord = {
    id: newJobId(now),
    state: 'queued',
    profile,
    source: req.source,
    sourceSize: stat.size,
    sourceMtimeMs: stat.mtimeMs,
    sourceHash: null,
    outDir,
    output: null,
    error: null,
    owner: c.mesh.peerId,
    info,
    unitCount: 0,
    createdAt: now,
    updatedAt: now,
    // A node that converts nothing hands every job on (it may be a laptop about to sleep),
    // unless the request says otherwise: then it waits here for workers, owning the job itself.
    handoff: c.config.mesh.enabled && (req.handoff ?? c.config.worker.slots === 0)
  }
  // Before the log takes the job, which wakes the planner: it plans with what is still coming.
  c.arriving.note(req.following, { durationSec: info.durationSec, bytes: stat.size })
  try {
    await c.store.append(job.id, { type: 'job:submitted', job })
  } catch (err) {
    await removeCreated(created)
    throw err
  }
  c.events.emit('job:submitted', { jobId: job.id, data: { source: job.source, profile: profile.name } })
  return job
}

/** A submit as the control API and watched folders make it: the new job's id once it is logged. */
export type SubmitJob = (req: SubmitRequest, options?: { signal?: AbortSignal }) => Promise<{ id: string }>

/** submitJob bound to this node, made before its users so none reaches for another to submit. */
export function createSubmit (c: JobComponents, profiles: Map<string, Profile>): SubmitJob {
  return async (req, options) => ({ id: (await submitJob(c, profiles, req, options)).id })
}

async function statSource (file: string): Promise<{ size: number, mtimeMs: number }> {
  let stat
  try {
    stat = await fs.stat(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new FfmeshError(ErrorCodes.SOURCE_NOT_FOUND, `no such file: ${file}`)
    }
    throw new FfmeshError(ErrorCodes.SOURCE_NOT_FOUND, `cannot read ${file}: ${(err as Error).message}`)
  }
  if (stat.isDirectory()) {
    throw new FfmeshError(
      ErrorCodes.SOURCE_IS_DIRECTORY,
      `${file} is a directory; submit the files in it, or watch it with ffmesh watch add`
    )
  }
  if (!stat.isFile()) throw new FfmeshError(ErrorCodes.SOURCE_NOT_MEDIA, `${file} is not a regular file`)
  if (stat.size === 0) {
    throw new FfmeshError(ErrorCodes.SOURCE_EMPTY, `${file} is empty (0 bytes); was it copied completely?`)
  }
  return { size: stat.size, mtimeMs: stat.mtimeMs }
}
