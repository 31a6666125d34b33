import type { FfmpegRunner } from '../../packages/node/src/media/runner.js'

/**
 * An ffmpeg runner that counts the processes started through it: ffmpeg runs and ffprobe runs,
 * with each ffprobe's arguments (`probeArgs`) for a test that asks what was probed.
 */
export interface CountingRunner {
  runner: FfmpegRunner
  runs: () => number
  probes: () => number
  probeArgs: string[][]
}

export function countingRunner (inner: FfmpegRunner): CountingRunner {
  let runs = 0
  const probeArgs: string[][] = []
  const runner: FfmpegRunner = {
    ...inner,
    run: async (args, options) => { runs++; return await inner.run(args, options) },
    probeJson: async (args, options) => { probeArgs.push(args); return await inner.probeJson(args, options) }
  }
  return { runner, runs: () => runs, probes: () => probeArgs.length, probeArgs }
}
