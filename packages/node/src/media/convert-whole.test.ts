import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { UnitSpec } from '@ffmesh/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multiTrackMkv, SAMPLE_FACTS } from '../../../../test/fixtures/media.js'
import { countingRunner } from '../../../../test/helpers/counting-runner.js'
import { fastProfile } from '../../../../test/helpers/kept-check.js'
import { createLogger } from '../logger.js'
import { convertUnit } from './convert.js'
import { probeSource, readProbe, type MediaInfo } from './probe.js'
import { createFfmpegRunner } from './runner.js'

const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
const facts = SAMPLE_FACTS.multiTrackMkv
let dir: string
let source: string
let info: MediaInfo

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ffm-convert-whole-'))
  source = await multiTrackMkv(dir)
  info = await probeSource(runner, source)
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

function wholeSpec (streams: UnitSpec['streams']): UnitSpec {
  return {
    jobId: '01JD4Y5N3ZQ7X8W9V0T1S2R3P4',
    index: 0,
    kind: 'whole',
    inputs: [{ hash: 'ab'.repeat(64), size: 1 }],
    preRoll: false,
    range: null,
    durationSec: facts.durationSec,
    inputFormat: 'source',
    ...(streams != null ? { streams } : {}),
    profile: fastProfile('h264')
  }
}

describe('a whole unit on its worker', () => {
  it("maps the source's streams from its spec without a probe of its own, and keeps what a probe would have kept", async () => {
    const results = []
    for (const streams of [info.streams, undefined]) {
      const counted = countingRunner(runner)
      const outFile = join(dir, `whole-${streams == null ? 'probed' : 'from-spec'}.mkv`)
      const init = { spec: wholeSpec(streams), inputs: [source], outFile, threads: 1 }
      const measured = await convertUnit(counted.runner, init)
      // The Matroska output is counted in this process too: with the spec's streams, no ffprobe at all.
      expect(counted.probes()).toBe(streams == null ? 1 : 0)
      expect(measured.frames).toBe(facts.durationSec * facts.frameRate)
      const streamsOut = (await readProbe(runner, outFile)).streams ?? []
      const types = streamsOut.map(s => s.codec_type)
      expect(types.filter(t => t === 'audio')).toHaveLength(facts.audioTracks)
      expect(types.filter(t => t === 'subtitle')).toHaveLength(facts.subtitleTracks)
      expect(types.filter(t => t === 'attachment')).toHaveLength(facts.attachments)
      results.push(streamsOut.map(s => [s.codec_type, s.codec_name, s.tags?.language ?? null]))
    }
    expect(results[0]).toEqual(results[1])
  })
})
