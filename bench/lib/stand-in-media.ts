/**
 * A stand-in for the ffmpeg work, for the scale simulation: the source "splits" into small files of
 * random bytes, "converting" copies a unit, assembly concatenates. It takes almost no CPU, so
 * dozens of nodes fit in one process while the store, leases, gossip and transfers stay real.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FfmpegRunner, MediaInfo, MediaToolkit } from '../../packages/node/dist/media/index.js'
import { createMediaToolkit } from '../../packages/node/dist/media/index.js'

export interface StandInInit {
  units: number
  unitBytes: number
  /** How long a unit "converts" (a timer, no CPU), so work spreads over the mesh as real work would. */
  unitMs: number
}

/** A tiny stand-in "frame" per unit: the engine compares frame counts, so every unit has exactly one. */
const FRAMES_PER_UNIT = 1

export function createStandInMedia (init: StandInInit): (runner: FfmpegRunner) => MediaToolkit {
  const info: MediaInfo = {
    kind: 'video',
    formatName: 'stand-in',
    durationSec: init.units,
    startTime: 0,
    videoFrames: init.units * FRAMES_PER_UNIT,
    videoCodec: 'h264',
    audioTracks: 0,
    subtitleTracks: 0,
    chapters: 0,
    title: null,
    streams: [{ index: 0, type: 'video', codec: 'h264', language: null, title: null, attachedPic: false }],
    videoStreamIndex: 0,
    videoStartTime: 0,
    frameRate: 1
  }
  const one = { frames: FRAMES_PER_UNIT, durationSec: 1, startSec: null }
  return (runner) => ({
    ...createMediaToolkit(runner),
    probeSource: async () => structuredClone(info),
    async planSource (plan) {
      const units = []
      for (let i = 0; i < init.units; i++) {
        const file = path.join(plan.workDir, `piece-${String(i).padStart(5, '0')}.bin`)
        await fs.writeFile(file, randomBytes(init.unitBytes))
        units.push({
          kind: 'segment' as const,
          files: [file],
          preRoll: false,
          range: { start: i, end: i + 1 },
          durationSec: 1,
          inputFormat: 'matroska' as const,
          expectedFrames: FRAMES_PER_UNIT
        })
      }
      return { units, videoFrames: info.videoFrames }
    },
    async convertUnit (unit, options) {
      await sleep(init.unitMs, undefined, { signal: options?.signal })
      await fs.copyFile(unit.inputs[0] as string, unit.outFile)
      return one
    },
    measureOutput: async () => one,
    async assembleOutput (job) {
      const out = await fs.open(job.outFile, 'w')
      try {
        for (const segment of job.segments) await out.write(await fs.readFile(segment.file))
      } finally {
        await out.close()
      }
    },
    async verifyOutput (job) {
      const { size } = await fs.stat(job.file)
      if (size !== init.units * init.unitBytes) {
        throw new Error(`stand-in output is ${size} bytes, expected ${init.units * init.unitBytes}`)
      }
    }
  })
}
