import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { FfmeshError, ErrorCodes, type Profile, type UnitSpec } from '@ffmesh/protocol'
import { assembleOutput } from '../../packages/node/src/media/assemble.js'
import { convertUnit } from '../../packages/node/src/media/convert.js'
import { planSource, type PlannedUnit } from '../../packages/node/src/media/plan.js'
import { plannedSpec } from '../../packages/node/src/media/planned-unit.js'
import { probeSource, type MediaInfo } from '../../packages/node/src/media/probe.js'
import { unitOutputExtension } from '../../packages/node/src/media/profile-args.js'
import type { FfmpegRunner } from '../../packages/node/src/media/runner.js'
import { verifyOutput } from '../../packages/node/src/media/verify.js'

/**
 * Placeholders for the network fields of a UnitSpec: a local conversion moves no blobs, and
 * convertUnit reads neither the job id nor the hashes.
 */
const LOCAL_JOB_ID = '0'.repeat(26)
const LOCAL_HASH = '0'.repeat(128)

export interface LocalConvertInit {
  source: string
  profile: Profile
  segmentSeconds: number
  /** Scratch directory for pieces and converted units; created, and removed afterwards. */
  workDir: string
  outFile: string
  /** Units converted at once (the mesh spreads them over peers instead). */
  parallel?: number
  threads?: number
}

export interface LocalConvertResult {
  info: MediaInfo
  units: PlannedUnit[]
  /** The plan read an honest copy of the source instead of it (packages/node/src/media/normalise.ts). */
  normalised: boolean
}

/**
 * The whole pipeline on one machine, the way the mesh runs it across many: probe, plan, convert
 * every unit (checking its frame count), assemble, verify. The media specs compare it with a
 * direct ffmpeg run; the node never runs it (test support, kept out of the package).
 */
export async function convertLocally (
  runner: FfmpegRunner,
  init: LocalConvertInit,
  options: { signal?: AbortSignal } = {}
): Promise<LocalConvertResult> {
  const workDir = resolve(init.workDir)
  const piecesDir = join(workDir, 'pieces')
  const unitsDir = join(workDir, 'units')
  await mkdir(piecesDir, { recursive: true })
  await mkdir(unitsDir, { recursive: true })
  try {
    const probed = await probeSource(runner, init.source, options)
    const parallel = Math.max(1, init.parallel ?? 1)
    const plan = await planSource(
      runner,
      {
        source: init.source,
        info: probed,
        profile: init.profile,
        segmentSeconds: init.segmentSeconds,
        tailSegments: parallel > 1 ? parallel : 0,
        workDir: piecesDir
      },
      options
    )
    const { units } = plan
    const info = plan.info ?? { ...probed, videoFrames: plan.videoFrames }
    const outputs = new Array<{ file: string; startSec: number | null }>(units.length)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < units.length) {
        const index = next++
        const unit = units[index] as PlannedUnit
        const spec = toSpec(unit, index, init.profile)
        const outFile = join(unitsDir, `unit-${String(index).padStart(5, '0')}${unitOutputExtension(spec)}`)
        const result = await convertUnit(runner, { spec, inputs: unit.files, outFile, threads: init.threads }, options)
        if (unit.expectedFrames != null && result.frames !== unit.expectedFrames) {
          throw new FfmeshError(
            ErrorCodes.VERIFY_FAILED,
            `unit ${index} produced ${result.frames} frames, expected ${unit.expectedFrames}`
          )
        }
        outputs[index] = { file: outFile, startSec: result.startSec }
      }
    }
    // Settle every worker before failing, so no ffmpeg still writes into workDir when it is removed.
    const settled = await Promise.allSettled(Array.from({ length: parallel }, worker))
    const failure = settled.find(s => s.status === 'rejected')
    if (failure != null) throw failure.reason
    const pick = (kind: PlannedUnit['kind']): Array<{ file: string; startSec: number | null }> =>
      units.flatMap((u, i) => (u.kind === kind ? [outputs[i] as { file: string; startSec: number | null }] : []))
    await assembleOutput(
      runner,
      {
        source: plan.normalised ?? init.source,
        info,
        profile: init.profile,
        outFile: init.outFile,
        segments: pick('segment'),
        audio: pick('audio')[0]?.file ?? null,
        whole: pick('whole')[0]?.file ?? null
      },
      options
    )
    await verifyOutput(runner, { info, profile: init.profile, file: init.outFile }, options)
    return { info, units, normalised: plan.normalised != null }
  } finally {
    await rm(workDir, { recursive: true, force: true })
  }
}

function toSpec (unit: PlannedUnit, index: number, profile: Profile): UnitSpec {
  return {
    jobId: LOCAL_JOB_ID,
    index,
    ...plannedSpec(unit),
    inputs: unit.files.map(() => ({ hash: LOCAL_HASH, size: 0 })),
    profile
  }
}
