/**
 * The real media toolkit with a stopwatch around each operation, so the convert bench can say
 * where a node's time goes (probe, split, encode, frame counts, assembly, verification) without
 * touching the node's code. The operations themselves are unchanged.
 */
import type { FfmpegRunner, MediaToolkit } from '../../packages/node/dist/media/index.js'
import { createMediaToolkit } from '../../packages/node/dist/media/index.js'

export interface MediaSpan { op: string, detail: string, start: number, end: number }

export function createTimedMediaToolkit (spans: MediaSpan[]): (runner: FfmpegRunner) => MediaToolkit {
  return (runner) => {
    const real = createMediaToolkit(runner)
    const timed =
      <A extends unknown[], R>(
        op: string,
        fn: (...args: A) => Promise<R>,
        detail: (...args: A) => string = () => ''
      ): ((...args: A) => Promise<R>) =>
      async (...args: A) => {
        const start = Date.now()
        try {
          return await fn(...args)
        } finally {
          spans.push({ op, detail: detail(...args), start, end: Date.now() })
        }
      }
    return {
      ...real,
      probeSource: timed('probeSource', real.probeSource),
      planSource: timed('planSource', real.planSource),
      convertUnit: timed('convertUnit', real.convertUnit, (init) => `${init.spec.kind} ${init.spec.index}`),
      measureOutput: timed('measureOutput', real.measureOutput),
      assembleOutput: timed('assembleOutput', real.assembleOutput),
      verifyOutput: timed('verifyOutput', real.verifyOutput)
    }
  }
}
