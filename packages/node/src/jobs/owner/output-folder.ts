import fs from 'node:fs/promises'
import path from 'node:path'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'

/** What a write in an output folder failed with, as the code a person can act on. */
export function outputFolderError (dir: string, err: unknown, advice = 'choose another with --out'): FfmeshError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
  if (code === 'ENOSPC') {
    return new FfmeshError(ErrorCodes.DISK_FULL, `no space left in output folder ${dir}; free some space or ${advice}`)
  }
  return new FfmeshError(ErrorCodes.OUTPUT_NOT_WRITABLE, `cannot write to output folder ${dir} (${code}); ${advice}`)
}

/** A done job's output that is not where the job put it, for `ffmesh fetch`. */
export function outputMissing (jobId: string, output: string, err: unknown): FfmeshError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
  return new FfmeshError(
    ErrorCodes.OUTPUT_MISSING,
    `job ${jobId} is done, but its output ${output} is not there (${code}): it was moved or deleted since; ` +
      'to convert the source again, ffmesh rm the job and submit it anew'
  )
}

/**
 * Makes sure `dir` exists and a file can be made in it (root passes `access` checks, so only a
 * real file proves it), creating missing folders. Returns the folders it created, outermost
 * first, so a submit refused afterwards can take them away again (`removeCreated`).
 */
export async function prepareOutputFolder (dir: string): Promise<string[]> {
  const created: string[] = []
  let missing = path.resolve(dir)
  const chain: string[] = []
  while (!await isDir(missing)) {
    chain.unshift(missing)
    const parent = path.dirname(missing)
    if (parent === missing) break
    missing = parent
  }
  const probe = path.join(dir, `.ffmesh-write-check-${process.pid}-${Date.now()}`)
  try {
    for (const folder of chain) {
      try {
        await fs.mkdir(folder)
        created.push(folder)
      } catch (err) {
        // Another submit made the same folder a moment ago: that is fine.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !await isDir(folder)) throw err
      }
    }
    await fs.writeFile(probe, '')
    await fs.rm(probe, { force: true })
  } catch (err) {
    await removeCreated(created)
    throw outputFolderError(dir, err)
  }
  return created
}

/** Removes folders `prepareOutputFolder` created, innermost first, if they are still empty. */
export async function removeCreated (created: string[]): Promise<void> {
  for (const folder of [...created].reverse()) await fs.rmdir(folder).catch(() => {})
}

async function isDir (p: string): Promise<boolean> {
  return await fs.stat(p).then(s => s.isDirectory(), () => false)
}
