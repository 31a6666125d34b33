import fs from 'node:fs/promises'
import path from 'node:path'
import { containerExtension } from '@ffmesh/protocol'
import type { MediaInfo } from '../../media/index.js'
import { doneRecords } from '../../library/file-index.js'
import { libraryOutputName } from '../../library/output-name.js'
import { placeLibraryOutput, resumeSwap } from '../../library/place-output.js'
import { finishPlacement, placeFile, placementTemp, type Placement } from '../../store/place-file.js'
import type { JobView } from '../../store/reduce.js'
import type { JobRecord } from '../../store/records.js'
import { cleanupJobBlobs } from './cleanup.js'
import { fitFileName } from './output-name.js'
import type { JobComponents } from '../shared/deps.js'
import { assertSourceUnchanged } from './source-check.js'

/** Where a job's output is assembled and placed: its temp keeps the container's extension. */
export function outputPlacement (job: JobRecord): Placement {
  const ext = containerExtension(job.profile.container)
  return { dir: job.outDir, name: finalOutputName(job), temp: placementTemp(job.outDir, job.id, 'assembly', ext) }
}

/** `<source stem>.<profile>.<ext>`, shortened to fit the file system's name limit (output-name.ts). */
export function finalOutputName (job: JobRecord): string {
  if (job.library != null) return libraryOutputName(job.source, job.profile)
  const stem = path.basename(job.source, path.extname(job.source))
  return fitFileName(stem, `.${job.profile.name}.${containerExtension(job.profile.container)}`)
}

/**
 * Assemble: join the verified units, verify the whole against the source, then make it appear in
 * the output folder complete or not at all (temp → fsync → link → log → unlink temp).
 */
export async function assembleJob (
  c: JobComponents,
  view: JobView,
  options: { signal?: AbortSignal } = {}
): Promise<void> {
  const { job, units } = view
  const resultPath = (i: number): string => c.blobs.path((units[i].result as { hash: string }).hash)
  const segments = units
    .filter(u => u.spec.kind === 'segment')
    .map(u => ({ file: resultPath(u.index), startSec: u.result?.startSec ?? null }))
  const audio = units.find(u => u.spec.kind === 'audio')
  const whole = units.find(u => u.spec.kind === 'whole')
  if (segments.length > 0) await assertSourceUnchanged(job, 'before assembly; its tracks and chapters are needed')
  await fs.mkdir(job.outDir, { recursive: true })
  const placement = outputPlacement(job)
  const output = await placeFile(placement, {
    write: async (tmp) => {
      await c.media.assembleOutput(
        {
          source: job.normalised != null ? c.blobs.path(job.normalised.hash) : job.source,
          info: job.info as MediaInfo,
          profile: job.profile,
          segments,
          audio: audio == null ? null : resultPath(audio.index),
          whole: whole == null ? null : resultPath(whole.index),
          outFile: tmp
        },
        options
      )
      await c.media.verifyOutput({ info: job.info as MediaInfo, profile: job.profile, file: tmp }, options)
    },
    // A library's rules and placement (saving, sidecars, --replace); other jobs link in beside.
    link: job.library != null ? async (tmp) => await placeLibraryOutput(c, job, tmp) : undefined,
    record: async (placed) => await recordDone(c, job, placed)
  }, options)
  if (output != null) announceDone(c, job, output)
  await cleanupJobBlobs(c, job.id)
}

async function recordDone (c: JobComponents, job: JobRecord, output: string): Promise<void> {
  const stat = await fs.stat(output).catch(() => null)
  await c.store.appendBatch(
    [{ jobId: job.id, event: { type: 'job:done', output, ...(stat != null ? { outputSize: stat.size } : {}) } }],
    doneRecords(job, output, stat)
  )
}

function announceDone (c: JobComponents, job: JobRecord, output: string): void {
  c.events.emit('job:done', { jobId: job.id, data: { output } })
  c.logger.info({ jobId: job.id, output }, 'job done')
}

/** A placed output found after a restart: recorded, its temp removed, announced. */
async function finish (c: JobComponents, job: JobRecord, output: string, placement: Placement): Promise<void> {
  await finishPlacement(placement, output, async (placed) => await recordDone(c, job, placed))
  announceDone(c, job, output)
  await cleanupJobBlobs(c, job.id)
}

/**
 * After a crash during assembly: if the temp file already has a second link, the output was
 * placed but not recorded; find it and record it instead of placing a second copy.
 */
export async function resumeAssembly (c: JobComponents, view: JobView): Promise<void> {
  const placement = outputPlacement(view.job)
  const tmp = placement.temp
  await adoptEarlierTemp(view.job, tmp)
  // A --replace swap was logged: finish it (library/swap.ts says why each step is safe to redo).
  if (view.job.swap != null) {
    const swapped = await resumeSwap(view.job, tmp).catch(async (err: unknown) => {
      // Hidden beside the original, the output would outlive a failed job; an assembly makes it again.
      await fs.rm(tmp, { force: true })
      throw err
    })
    if (swapped != null) return await finish(c, view.job, swapped, placement)
  }
  const stat = await fs.stat(tmp).catch(() => null)
  if (stat == null) return
  if (stat.nlink > 1) {
    for (const name of await fs.readdir(view.job.outDir)) {
      const candidate = path.join(view.job.outDir, name)
      if (candidate === tmp) continue
      const s = await fs.stat(candidate).catch(() => null)
      if (s != null && s.ino === stat.ino && s.dev === stat.dev) return finish(c, view.job, candidate, placement)
    }
  }
  await fs.rm(tmp, { force: true })
}

/**
 * Nodes before the one placement path named an assembly's temp `.ffmesh-<job>.partial.<ext>`. A
 * crash under that name is finished under the current one: a rename keeps the file's links, which
 * is what tells a placed output from a half-written one.
 */
async function adoptEarlierTemp (job: JobRecord, temp: string): Promise<void> {
  const earlier = path.join(job.outDir, `.ffmesh-${job.id}.partial.${containerExtension(job.profile.container)}`)
  if (await fs.stat(temp).catch(() => null) != null) return
  await fs.rename(earlier, temp).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err
  })
}
