import fs from 'node:fs/promises'
import path from 'node:path'
import type { JobComponents } from '../jobs/shared/deps.js'
import { skipJob } from '../jobs/owner/classify.js'
import { crashPoint } from '../store/crash-point.js'
import { fsyncDir, fsyncFile, linkWithoutOverwrite } from '../store/durable-fs.js'
import type { JobRecord, SwapIntent } from '../store/records.js'
import { assertSourceUnchanged } from '../jobs/owner/source-check.js'
import { savingRule } from './rules.js'
import { libraryOutputName } from './output-name.js'
import { copySidecars } from './sidecars.js'
import { completeSwap, fileIdentity, freeOutputName, swapIntent } from './swap.js'

/**
 * Where a library job's verified output goes, once `tmp` holds it: nowhere when it saves too little
 * (the job ends `skipped` with NO_SAVING and the original is untouched), into the mirrored tree
 * with its sidecars (`--out`), or into the original's place (`--replace`). Returns the output's
 * path, or null when the job was skipped.
 */
export async function placeLibraryOutput (c: JobComponents, job: JobRecord, tmp: string): Promise<string | null> {
  const library = job.library
  if (library == null) throw new Error('placeLibraryOutput needs a library job')
  const size = (await fs.stat(tmp)).size
  const noSaving = savingRule(job.sourceSize, size, library.rules)
  if (noSaving != null) {
    await fs.rm(tmp, { force: true })
    return await skipJob(c, job, noSaving, size)
  }
  const outName = libraryOutputName(job.source, job.profile)
  if (!library.replace) {
    await copySidecars(library.sidecars, job.outDir)
    // A source changed in place is converted again: its new output replaces the one this node
    // made of it before (that file, and only that one), instead of landing beside it as "(1)".
    const dest = path.join(job.outDir, outName)
    if (earlierOutputOf(c, job) === dest) {
      await fsyncFile(tmp)
      await fs.rename(tmp, dest)
      await fsyncDir(job.outDir)
      return dest
    }
    return await linkWithoutOverwrite(tmp, job.outDir, outName)
  }
  // The original is replaced only if it is still what was converted.
  await assertSourceUnchanged(job, 'while it was converted; the original is kept')
  await fsyncFile(tmp)
  const intent = { ...await swapIntent(job, await freeOutputName(job, outName)), output: await fileIdentity(tmp) }
  crashPoint('swap-before-intent')
  await c.store.append(job.id, { type: 'job:swap-started', swap: intent })
  crashPoint('swap-after-intent')
  await completeSwap(job, intent, tmp)
  return intent.final
}

/** The output of the latest done job of the same source (none: null). */
function earlierOutputOf (c: JobComponents, job: JobRecord): string | null {
  const { views } = c.store.list({ states: ['done'], order: 'newest' })
  return views.find(v => v.job.id !== job.id && v.job.source === job.source && v.job.output != null)?.job.output ?? null
}

/**
 * After a restart with a swap logged: finish its steps; returns the output's path, or null when
 * the swap had not begun to move names and its output is gone (see completeSwap).
 */
export async function resumeSwap (job: JobRecord, tmp: string): Promise<string | null> {
  const intent = job.swap as SwapIntent
  return await completeSwap(job, intent, tmp) ? intent.final : null
}
