import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PROFILES, type Profile } from '@ffmesh/protocol'
import { pieceAlone } from '../../../../test/fixtures/media-truth.js'
import { countingRunner } from '../../../../test/helpers/counting-runner.js'
import { makeOldFormat } from '../../../../test/fixtures/old-formats.js'
import { makeRecording } from '../../../../test/fixtures/recordings.js'
import { createLogger } from '../logger.js'
import type { WatchedPacket } from './packet-list.js'
import { createPieceTally, readSegmentStarts } from './piece-tally.js'
import { planSource } from './plan.js'
import { probeSource } from './probe.js'
import { createFfmpegRunner } from './runner.js'

const h264 = DEFAULT_PROFILES.find(p => p.name === 'h264') as Profile
const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
/** A packet in 90 kHz ticks, no keyframe and shown when decoded unless told otherwise. */
const packet = (dts: number, more: Partial<WatchedPacket> = {}): WatchedPacket => ({
  pts: dts,
  dts,
  key: false,
  empty: false,
  ...more
})

describe('createPieceTally', () => {
  it('starts a piece at the keyframe its list names, in a clock the list shows to run later', () => {
    // Decoding starts at -3000 ticks, so the muxer's times are 3000 later than the source's.
    const tally = createPieceTally([93000, 183000])
    const packets = [
      packet(-3000, { pts: 0, key: true }),
      packet(0, { pts: 9000 }),
      packet(3000, { pts: 3000 }),
      // A keyframe at 90000 in the source is 93000 to the muxer: the second piece starts here.
      packet(87000, { pts: 90000, key: true }),
      // Shown before the keyframe: an open-GOP leading frame of the second piece.
      packet(90000, { pts: 87000 }),
      packet(93000, { pts: 96000, empty: true }),
      // A keyframe that starts no piece stays in the one it is in.
      packet(120000, { key: true }),
      packet(180000, { key: true }),
      packet(183000)
    ]
    for (const p of packets) tally.watch.add(p)
    expect(tally.result()).toEqual([
      { frames: 3, first: 0, min: 0, max: 9000, leading: false, untimed: false },
      { frames: 3, first: 90000, min: 87000, max: 120000, leading: true, untimed: false },
      { frames: 2, first: 180000, min: 180000, max: 183000, leading: false, untimed: false }
    ])
  })

  it('gives nothing when a start names no keyframe, and marks a piece with an untimed packet', () => {
    const missed = createPieceTally([45000])
    for (const p of [packet(0, { key: true }), packet(45000)]) missed.watch.add(p)
    expect(missed.result()).toBeNull()

    const untimed = createPieceTally([])
    for (const p of [packet(0, { key: true }), packet(3000, { pts: null, dts: null })]) untimed.watch.add(p)
    expect(untimed.result()?.[0]?.untimed).toBe(true)
  })

  it('reads the segment list\'s starts in ticks; nothing from a list of another length or none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ffmesh-tally-'))
    try {
      const list = join(dir, 'pieces.csv')
      await writeFile(list, 'piece-00000.ts,0.000000,6.080000\npiece-00001.ts,6.080000,10.080000\n')
      expect(await readSegmentStarts(list, 2)).toEqual([547200])
      expect(await readSegmentStarts(list, 3)).toBeNull()
      expect(await readSegmentStarts(join(dir, 'none.csv'), 2)).toBeNull()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('counting the pieces of old and broadcast sources from the cut\'s packet list', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffmesh-tally-real-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  // MPEG-2 with B-frames from a DVB recording, two recordings joined or with a wrapped clock and
  // a packed-bitstream AVI (each cut after it is normalised), a TS whose audio starts late, H.264
  // in FLV, HEVC from a phone and in Matroska (open GOPs): each cut, its pieces counted from the
  // list, and each piece then read on its own.
  it.each([
    ['recording', 'dvbRecording'],
    ['recording', 'joinedForward'],
    ['recording', 'wrappedClock'],
    ['recording', 'lateAudioTs'],
    ['old format', 'divxAvi'],
    ['old format', 'flvH264'],
    ['old format', 'phoneMov'],
    ['old format', 'hdr10Mkv']
  ] as const)('%s %s: every unit has the frames, start and pre-roll its piece has alone', async (from, kind) => {
    const made = from === 'recording' ? await makeRecording(kind, dir) : await makeOldFormat(kind, dir)
    const { runner: recording, probeArgs: probes } = countingRunner(runner)
    const workDir = join(dir, `work-${kind}`)
    await mkdir(workDir)
    const info = await probeSource(runner, made)
    const plan = await planSource(recording, { source: made, info, profile: h264, segmentSeconds: 2, workDir })
    const segments = plan.units.filter(u => u.kind === 'segment')
    expect(segments.length).toBeGreaterThanOrEqual(2)
    // No ffprobe read the pieces.
    expect(probes.filter(args => args.some(arg => arg.includes('piece-')))).toEqual([])
    for (const [i, unit] of segments.entries()) {
      const alone = await pieceAlone(unit.files.at(-1) as string)
      if (i > 0) expect(unit.expectedFrames).toBe(alone.frames)
      expect(unit.range?.start).toBeCloseTo(alone.minPts, 6)
      expect(unit.preRoll).toBe(i > 0 && alone.leading)
    }
  }, 120_000)
})
