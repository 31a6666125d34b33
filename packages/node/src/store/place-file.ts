import fs from 'node:fs/promises'
import path from 'node:path'
import { crashPoint } from './crash-point.js'
import { fsyncDir, linkWithoutOverwrite } from './durable-fs.js'

/** Why a file is being placed; part of its temp name, so a leftover says what made it. */
export type PlacementPurpose = 'assembly' | 'handoff' | 'fetch'

/** Where a job's file is being placed: the folder, the name wanted there, and the temp beside it. */
export interface Placement {
  dir: string
  name: string
  /** Hidden, in `dir` itself so the link is within one file system (placementTemp). */
  temp: string
}

/**
 * The one temp name of every placement: `.ffmesh-<jobId>.<purpose>.partial[.<ext>]`. Hidden, so
 * watched folders, libraries and file browsers skip it; stable, so a restart finds it again after
 * a crash (assembly's recovery looks for it by this name).
 */
export function placementTemp (dir: string, jobId: string, purpose: PlacementPurpose, ext?: string): string {
  return path.join(dir, `.ffmesh-${jobId}.${purpose}.partial${ext == null ? '' : `.${ext}`}`)
}

export interface PlaceSteps {
  /** Fills the temp file (converts, fetches or copies into it). */
  write: (temp: string) => Promise<void>
  /**
   * Makes the complete temp appear under its name; by default a link that never overwrites
   * (durable-fs.ts), which fsyncs the file first. Null places nothing (the temp is removed).
   */
  link?: (temp: string) => Promise<string | null>
  /** Logs the placed file (a record in the job log) before the temp goes. */
  record?: (output: string) => Promise<void>
}

/**
 * Makes a file appear in a folder complete or not at all: temp → write → fsync → link without
 * overwrite → record → remove temp. Until the record is written, the temp and the output are two
 * links to one file, which is how a restart after a crash tells a placed but unrecorded output
 * from a half-written one. Returns the output's path (null when `link` placed nothing). `signal`
 * is checked before anything is written; `write` takes it too if it wants. Once the file is
 * written, placing it is not cut short: a file half placed is what the steps exist to prevent.
 */
export async function placeFile (
  placement: Placement,
  steps: PlaceSteps & { link?: undefined },
  options?: { signal?: AbortSignal }
): Promise<string>
export async function placeFile (
  placement: Placement,
  steps: PlaceSteps,
  options?: { signal?: AbortSignal }
): Promise<string | null>
export async function placeFile (
  placement: Placement,
  steps: PlaceSteps,
  options: { signal?: AbortSignal } = {}
): Promise<string | null> {
  options.signal?.throwIfAborted()
  const { temp } = placement
  await fs.rm(temp, { force: true })
  try {
    await steps.write(temp)
    const output = steps.link != null
      ? await steps.link(temp)
      : await linkWithoutOverwrite(temp, placement.dir, placement.name)
    if (output == null) {
      await fs.rm(temp, { force: true })
      return null
    }
    crashPoint('placement-after-link')
    await finishPlacement(placement, output, steps.record)
    return output
  } catch (err) {
    await fs.rm(temp, { force: true })
    throw err
  }
}

/**
 * The last steps of a placement, also run by a restart that found the output placed but not
 * recorded: record it, then remove the temp and make its removal durable.
 */
export async function finishPlacement (
  placement: Pick<Placement, 'dir' | 'temp'>,
  output: string,
  record?: (output: string) => Promise<void>
): Promise<void> {
  await record?.(output)
  await fs.rm(placement.temp, { force: true })
  await fsyncDir(placement.dir)
}
