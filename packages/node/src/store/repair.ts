import fs from 'node:fs/promises'
import net from 'node:net'
import { Level } from 'level'
import { ErrorCodes, FfmeshError, type JobState } from '@ffmesh/protocol'
import { dataPaths, jobLogFiles } from '../config/paths.js'
import type { Logger } from '../logger.js'
import { openJobStore } from './job-store.js'
import { openLevel, recoveryDrops } from './log-db.js'
import { salvageLog } from './log-salvage.js'

/** What `ffmesh repair` did and what was lost, for people and for `--json`. */
export interface RepairReport {
  dataDir: string
  /** Where the damaged files were copied before anything was changed. */
  damagedCopy: string
  /** What LevelDB's repair could not read, from its info log: damaged tables and write-ahead logs. */
  droppedByLevelDb: { count: number, bytes: number, lines: string[] }
  /** Records LevelDB could read that were not what they must be, deleted. */
  unreadableRecords: number
  /** Log record numbers lost for good. */
  recordsLost: number
  /** Jobs whose views were rebuilt from their whole history. */
  jobsRebuilt: string[]
  jobsKept: number
  jobsByState: Partial<Record<JobState, number>>
  /** Jobs held until a person retries or removes them, and why. */
  jobsNeedingAttention: Array<{ id: string, state: JobState, source: string, reason: string }>
  /** Jobs whose own record is gone (other records of them were found); their blobs are kept. */
  jobsLost: string[]
}

/** Whether a node answers on the data dir's control socket: then the log must not be touched. */
async function nodeAnswers (socketPath: string): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = net.connect(socketPath)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/**
 * `ffmesh repair`, offline: copies the job log aside (`db.damaged-<time>/`), lets LevelDB rebuild
 * it from every table and log file it can still read (a missing CURRENT or MANIFEST included),
 * deletes what cannot be decoded, rebuilds the views of jobs whose events all survived, then opens
 * it as this data dir's log: every lost record is recorded once and every job it touched is held
 * for a person. Blobs and outputs are never touched.
 */
export async function repairJobLog (init: {
  dataDir: string
  clock?: () => number
  logger?: Logger
  signal?: AbortSignal
}): Promise<RepairReport> {
  const paths = dataPaths(init.dataDir)
  const files = jobLogFiles(paths)
  const clock = init.clock ?? Date.now
  if (await nodeAnswers(paths.controlSocket)) {
    throw new FfmeshError(
      ErrorCodes.NODE_ALREADY_RUNNING,
      `a node is running on ${paths.root}; stop it first (systemctl stop ffmesh, or Ctrl-C), then run ffmesh repair again`
    )
  }
  if (
    await fs.stat(paths.db).then(
      () => false,
      () => true
    )
  ) {
    throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `there is no job log at ${paths.db} to repair; check --data-dir`)
  }
  const damagedCopy = `${paths.db}.damaged-${new Date(clock()).toISOString().replace(/[:.]/g, '-')}`
  await fs.cp(paths.db, damagedCopy, {
    recursive: true,
    errorOnExist: true,
    force: false,
    filter: src => !src.endsWith('/LOCK')
  })

  try {
    // `level` exports classic-level's ClassicLevel, which has repair(); its typings leave it out.
    await (Level as unknown as { repair: (location: string) => Promise<void> }).repair(paths.db)
  } catch (err) {
    if (/lock/i.test(String((err as Error).message))) {
      throw new FfmeshError(
        ErrorCodes.NODE_ALREADY_RUNNING,
        `the job log ${paths.db} is in use by a running node; stop it first`
      )
    }
    throw new FfmeshError(
      ErrorCodes.STORE_CORRUPT,
      `LevelDB could not repair ${paths.db} (${(err as Error).message}); the damaged files are in ${damagedCopy}`
    )
  }
  const droppedByLevelDb = await recoveryDrops(paths.db)
  const db = await openLevel(paths.db, { create: true })
  let salvage
  try {
    salvage = await salvageLog(db)
  } catch (err) {
    throw new FfmeshError(
      ErrorCodes.STORE_CORRUPT,
      `the repaired job log ${paths.db} still cannot be read (${(err as Error).message}); the damaged files are in ${damagedCopy}`
    )
  } finally {
    await db.close()
  }

  const store = await openJobStore({ files, clock, logger: init.logger, adopt: true })
  try {
    const jobs = store.jobs()
    const jobsByState: Partial<Record<JobState, number>> = {}
    for (const { job } of jobs) jobsByState[job.state] = (jobsByState[job.state] ?? 0) + 1
    return {
      dataDir: paths.root,
      damagedCopy,
      droppedByLevelDb,
      unreadableRecords: salvage.unreadable,
      recordsLost: store.opened.damage.lostSeqs.length,
      jobsRebuilt: salvage.rebuilt,
      jobsKept: jobs.length,
      jobsByState,
      jobsNeedingAttention: jobs
        .filter(v => v.job.attention != null)
        .map(v => ({ id: v.job.id, state: v.job.state, source: v.job.source, reason: v.job.attention as string })),
      jobsLost: store.opened.damage.lostJobs
    }
  } finally {
    await store.close()
  }
}
