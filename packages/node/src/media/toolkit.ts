import { assembleOutput, type AssembleInit } from './assemble.js'
import { convertTimeoutMs, convertUnit, type ConvertInit, type ConvertOptions } from './convert.js'
import { planAudioFirst, planSource, type PlanInit, type PlannedUnit, type PlanResult } from './plan.js'
import { probeSource, type MediaInfo, type UnitMeasure } from './probe.js'
import { measureResult } from './result-check.js'
import { checkProfileFits, unitOutputExtension } from './profile-args.js'
import type { FfmpegRunner } from './runner.js'
import { verifyOutput, type VerifyInit } from './verify.js'

type Opts = { signal?: AbortSignal }

/**
 * The media operations the job engine uses, bound to one ffmpeg runner. The engine takes this as a
 * dependency, so the scale simulation can run hundreds of units with a stand-in converter while
 * every other part (store, leases, gossip, transfer) stays real.
 */
export interface MediaToolkit {
  runner: FfmpegRunner
  probeSource(file: string, options?: Opts): Promise<MediaInfo>
  checkProfileFits: typeof checkProfileFits
  planSource(init: PlanInit, options?: Opts): Promise<PlanResult>
  planAudioFirst(init: PlanInit, options?: Opts): Promise<PlannedUnit | null>
  convertUnit(init: ConvertInit, options?: ConvertOptions): Promise<UnitMeasure>
  measureOutput(file: string, kind: 'segment' | 'audio' | 'whole', options?: Opts): Promise<UnitMeasure>
  assembleOutput(init: AssembleInit, options?: Opts): Promise<void>
  verifyOutput(init: VerifyInit, options?: Opts): Promise<void>
  unitOutputExtension: typeof unitOutputExtension
  convertTimeoutMs: typeof convertTimeoutMs
}

export function createMediaToolkit (runner: FfmpegRunner): MediaToolkit {
  return {
    runner,
    probeSource: (file, options) => probeSource(runner, file, options),
    checkProfileFits,
    planSource: (init, options) => planSource(runner, init, options),
    planAudioFirst: (init, options) => planAudioFirst(runner, init, options),
    convertUnit: (init, options) => convertUnit(runner, init, options),
    measureOutput: (file, kind, options) => measureResult(runner, file, kind, options),
    assembleOutput: (init, options) => assembleOutput(runner, init, options),
    verifyOutput: (init, options) => verifyOutput(runner, init, options),
    unitOutputExtension,
    convertTimeoutMs
  }
}
