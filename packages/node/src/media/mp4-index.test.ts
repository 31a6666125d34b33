import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ffmpeg, makeSample } from '../../../../test/fixtures/media.js'
import { createLogger } from '../logger.js'
import { indexPackets } from './mp4-index.js'
import { scanPackets, type PacketList } from './packet-list.js'
import { probeSource, type MediaInfo } from './probe.js'
import { createFfmpegRunner } from './runner.js'

const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
const LAVFI_VIDEO = ['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=5']
const LAVFI_AUDIO = ['-f', 'lavfi', '-i', 'sine=f=440:d=5']

/**
 * Files of the MP4 family in the shapes people have, each made by ffmpeg: `read` says whether the
 * index reads it (its tables are plain) or leaves it to ffmpeg's scan.
 */
const SHAPES: Array<{ name: string, read: boolean, make: (file: string, dir: string) => Promise<void> }> = [
  // x264's B-frames: composition offsets, and an edit that starts the video at its first shown frame; AAC's priming.
  { name: 'bframes.mp4', read: true, make: async f => await ffmpeg([...LAVFI_VIDEO, ...LAVFI_AUDIO, '-c:v', 'libx264', '-bf', '3', '-c:a', 'aac', '-shortest', f]) },
  // No edit list: the B-frames' offsets and the AAC priming stand in the times as they are.
  { name: 'no-edits.mp4', read: true, make: async (f, d) => await ffmpeg(['-i', join(d, 'bframes.mp4'), '-c', 'copy', '-use_editlist', '0', f]) },
  { name: 'faststart.mp4', read: true, make: async (f, d) => await ffmpeg(['-i', join(d, 'bframes.mp4'), '-c', 'copy', '-movflags', '+faststart', f]) },
  {
    name: 'two-audio.mov',
    read: true,
    make: async f => await ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=30000/1001:d=5', ...LAVFI_AUDIO, '-f', 'lavfi', '-i', 'sine=f=880:d=5',
      '-map', '0', '-map', '1', '-map', '2', '-c:v', 'libx264', '-c:a', 'aac', '-shortest', f
    ])
  },
  { name: 'opus.mp4', read: true, make: async f => await ffmpeg([...LAVFI_VIDEO, ...LAVFI_AUDIO, '-c:v', 'libx264', '-c:a', 'libopus', '-shortest', f]) },
  { name: 'mpeg4-mp3.mp4', read: true, make: async f => await ffmpeg([...LAVFI_VIDEO, ...LAVFI_AUDIO, '-c:v', 'mpeg4', '-c:a', 'libmp3lame', '-shortest', f]) },
  { name: 'audio.m4a', read: true, make: async f => await ffmpeg([...LAVFI_AUDIO, '-c:a', 'aac', f]) },
  // ffmpeg drops the subtitle track's last, empty sample at its edit's end: left to the scan.
  {
    name: 'subtitles.mp4',
    read: false,
    make: async (f, d) => {
      const srt = join(d, 'subs.srt')
      await writeFile(srt, '1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nWorld\n')
      await ffmpeg(['-i', join(d, 'bframes.mp4'), '-i', srt, '-map', '0', '-map', '1', '-c', 'copy', '-c:s', 'mov_text', f])
    }
  },
  // A stream copy from 1.3 s: the edit starts after frames ffmpeg keeps for decoding, with times before 0.
  { name: 'trimmed.mp4', read: false, make: async (f, d) => await ffmpeg(['-ss', '1.3', '-i', join(d, 'bframes.mp4'), '-c', 'copy', f]) },
  { name: 'fragmented.mp4', read: false, make: async (f, d) => await ffmpeg(['-i', join(d, 'bframes.mp4'), '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov', f]) },
  // ffmpeg groups PCM samples into packets of its own.
  { name: 'pcm.mov', read: false, make: async f => await ffmpeg([...LAVFI_VIDEO, ...LAVFI_AUDIO, '-c:v', 'libx264', '-c:a', 'pcm_s16le', '-shortest', f]) },
  // Cut short after its index (which sits at the front): the index lists samples the file lost.
  {
    name: 'cut-short.mp4',
    read: false,
    make: async (f, d) => { await writeFile(f, (await readFile(join(d, 'faststart.mp4'))).subarray(0, 150_000)) }
  },
  // The same, with its media data box sized "to the end of the file" (as a recorder that never
  // came back to write the size leaves it): the boxes still fit, the samples do not.
  {
    name: 'cut-short-open-ended.mp4',
    read: false,
    make: async (f, d) => {
      const bytes = Buffer.from(await readFile(join(d, 'faststart.mp4')))
      bytes.writeUInt32BE(0, bytes.indexOf('mdat', 0, 'latin1') - 4)
      await writeFile(f, bytes.subarray(0, 150_000))
    }
  }
]

/** The streams a whole-file plan lists: the main video, every audio track and every subtitle. */
function listed (info: MediaInfo): number[] {
  return info.streams
    .filter(s => s.type === 'audio' || s.type === 'subtitle' || s.index === info.videoStreamIndex)
    .map(s => s.index)
}

function expectSameList (read: PacketList, scanned: PacketList, streams: number[]): void {
  for (const index of streams) {
    const a = read.streams.get(index)
    const b = scanned.streams.get(index)
    expect(a?.packets, `stream ${index} packets`).toBe(b?.packets)
    expect(a?.start, `stream ${index} start`).toBeCloseTo(b?.start as number, 9)
    expect(a?.end, `stream ${index} end`).toBeCloseTo(b?.end as number, 9)
  }
  expect(read.outsideMpegClock).toBe(scanned.outsideMpegClock)
  expect(read.breaks).toBe(scanned.breaks)
}

describe('indexPackets', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ffmesh-mp4-index-'))
    // In order: later shapes are made from earlier ones.
    for (const shape of SHAPES) await shape.make(join(dir, shape.name), dir)
  }, 120_000)
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it.each(SHAPES.map(s => [s.name, s.read] as const))(
    '%s: read from its tables (%s) only as ffmpeg lists its packets',
    async (name, read) => {
      const file = join(dir, name)
      const info = await probeSource(runner, file)
      const streams = listed(info)
      const fromIndex = await indexPackets(file, info, streams)
      const scanned = await scanPackets(runner, file, streams, join(dir, `${name}.crc`)).catch(() => null)
      if (!read) {
        expect(fromIndex).toBeNull()
        return
      }
      expect(fromIndex).not.toBeNull()
      expect(scanned).not.toBeNull()
      expectSameList(fromIndex as PacketList, scanned as PacketList, streams)
    },
    60_000
  )

  it('reads the test suite\'s own MP4 samples as ffmpeg lists them', async () => {
    for (const kind of ['shortClip', 'vfrMp4', 'bframesMp4'] as const) {
      const file = await makeSample(kind, dir)
      const info = await probeSource(runner, file)
      const streams = listed(info)
      const fromIndex = await indexPackets(file, info, streams)
      expect(fromIndex, kind).not.toBeNull()
      expectSameList(fromIndex as PacketList, await scanPackets(runner, file, streams, join(dir, `${kind}.crc`)), streams)
    }
  }, 120_000)

  it('leaves a file whose movie box is cut short, one of too many boxes, and one not of the MP4 family, to the scan', async () => {
    const whole = join(dir, 'faststart.mp4')
    const info = await probeSource(runner, whole)
    const cut = join(dir, 'cut-in-index.mp4')
    await writeFile(cut, (await readFile(whole)).subarray(0, 2_000))
    expect(await indexPackets(cut, info, listed(info))).toBeNull()
    // A thousand and more boxes at the top level (each a read): not read, though each is sound.
    const free = Buffer.alloc(8 * 1100)
    for (let i = 0; i < 1100; i++) { free.writeUInt32BE(8, i * 8); free.write('free', i * 8 + 4, 'latin1') }
    const padded = join(dir, 'many-boxes.mp4')
    await writeFile(padded, Buffer.concat([await readFile(whole), free]))
    expect(await indexPackets(padded, info, listed(info))).toBeNull()
    const mkv = await makeSample('multiTrackMkv', dir)
    const mkvInfo = await probeSource(runner, mkv)
    expect(await indexPackets(mkv, mkvInfo, listed(mkvInfo))).toBeNull()
    expect(await indexPackets(join(dir, 'gone.mp4'), info, listed(info))).toBeNull()
  }, 60_000)
})
