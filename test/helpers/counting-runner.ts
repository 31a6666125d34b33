import type { FfmpegRunner } from '../../packages/node/src/media/runner.js'

/** An ffmpeg runner that counts the processes started through it: ffmpeg runs and ffprobe runs. */
export interface CountingRunner { runner: FfmpegRunner, runs: () => number, probes: () => number }

export function countingRunner (inner: FfmpegRunner): CountingRunner {
  let runs = 0
  let probes = 0
  const runner: FfmpegRunner = {
    ...inner,
    run: async (args, options) => { runs++; return await inner.run(args, options) },
    probeJson: async (args, options) => { probes++; return await inner.probeJson(args, options) }
  }
  return { runner, runs: () => runs, probes: () => probes }
}
