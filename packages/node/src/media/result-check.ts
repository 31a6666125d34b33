import { MatroskaDamage, tallyMatroska } from './matroska-tally.js'
import { measureOutput, type UnitMeasure } from './probe.js'
import type { FfmpegRunner } from './runner.js'

export { MatroskaDamage } from './matroska-tally.js'

/**
 * What a converted unit holds, for the worker's report and the owner's check: a Matroska result
 * (every segment and audio unit, and a whole unit in an mkv, mka or webm profile) is walked in this
 * process (matroska-tally.ts: no process start, and a file cut short or damaged is refused where
 * ffprobe would count what is left); anything else, and what the walk does not take, is measured
 * by ffprobe. Throws MatroskaDamage for a damaged file: the caller refuses the result.
 */
export async function measureResult (
  runner: FfmpegRunner,
  file: string,
  kind: 'segment' | 'audio' | 'whole',
  options: { signal?: AbortSignal } = {}
): Promise<UnitMeasure> {
  const tally = await tallyMatroska(file, options)
  if (tally?.durationSec == null) return await measureOutput(runner, file, kind, options)
  if (kind === 'segment' && tally.startSec == null) throw new MatroskaDamage('the segment has no video frame')
  return { frames: tally.frames, durationSec: tally.durationSec, startSec: kind === 'segment' ? tally.startSec : null }
}

/** Whether a failed measure read the file and found it bad (rather than could not read it now). */
export function isDamage (err: unknown): boolean {
  return err instanceof MatroskaDamage
}
