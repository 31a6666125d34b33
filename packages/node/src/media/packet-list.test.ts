import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSample } from '../../../../test/fixtures/media.js'
import { createLogger } from '../logger.js'
import { MPEG_CLOCK_WRAP_SEC, readPacketList, scanPackets } from './packet-list.js'
import { createFfmpegRunner } from './runner.js'

const HEADER = `#software: Lavf59.27.100
#tb 0: 1/90000
#media_type 0: video
#codec_id 0: mpeg2video
#tb 1: 1/90000
#media_type 1: audio
#codec_id 1: mp2
#tb 2: 1/1000
#media_type 2: subtitle
#codec_id 2: dvb_subtitle
`
/** A framecrc line as ffmpeg 5.1 writes it (stream, dts, pts, duration, size, crc[, flags]). */
const line = (stream: number, dts: number, pts: number, duration: number, key = true): string =>
  `${stream}, ${String(dts).padStart(10)}, ${String(pts).padStart(10)}, ${String(duration).padStart(8)},     1234, 0x00000000${key ? '' : ', F=0x0'}`
const NO_TIME = -9223372036854775808n

describe('readPacketList', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ffm-md-packets-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  async function list (lines: string[]): Promise<string> {
    const file = join(dir, `list-${Math.random().toString(36).slice(2)}.crc`)
    await writeFile(file, HEADER + lines.join('\n') + '\n')
    return file
  }

  it('gives each source stream its packets and where their presentation times begin and end', async () => {
    const file = await list([
      line(0, 0, 7200, 3600),
      line(1, 0, 0, 2160),
      line(0, 3600, 3600, 3600, false),
      line(1, 2160, 2160, 2160),
      line(2, 500, 500, 2000)
    ])
    const read = await readPacketList(file, [4, 7, 9], [])
    expect(read.streams.get(4)).toEqual({ packets: 2, start: 3600 / 90000, end: (7200 + 3600) / 90000 })
    expect(read.streams.get(7)).toEqual({ packets: 2, start: 0, end: 4320 / 90000 })
    expect(read.streams.get(9)).toEqual({ packets: 1, start: 0.5, end: 2.5 })
    expect(read.breaks).toBe(0)
    expect(read.outsideMpegClock).toBe(false)
  })

  it('places a packet without a presentation time at its decode time', async () => {
    const file = await list([`0,          0, ${NO_TIME},     3600,     1234, 0x00000000`, line(0, 3600, 3600, 3600)])
    expect((await readPacketList(file, [0, 1, 2], [])).streams.get(0)).toEqual({
      packets: 2,
      start: 0,
      end: 7200 / 90000
    })
  })

  it('counts a jump forward past ffmpeg\'s 10 s threshold as a break, a shorter gap not', async () => {
    const short = await list([line(0, 0, 0, 3600), line(0, 3600 + 5 * 90000, 3600 + 5 * 90000, 3600)])
    expect((await readPacketList(short, [0, 1, 2], [])).breaks).toBe(0)
    const long = await list([line(0, 0, 0, 3600), line(0, 3600 + 1800 * 90000, 3600 + 1800 * 90000, 3600)])
    expect((await readPacketList(long, [0, 1, 2], [])).breaks).toBe(1)
  })

  it('counts a step back from the decode times ffmpeg raised, for audio and video, past 0.1 s', async () => {
    const file = await list([line(0, 0, 0, 3600), line(0, 3600, 3600, 3600), line(1, 0, 0, 2160), line(2, 0, 0, 1000)])
    // A DVD's last AC-3 frame written again 32 ms back: ffmpeg raises it and corrects nothing.
    expect(
      (await readPacketList(file, [0, 1, 2], [{ output: 1, stream: 1, previous: 520440, current: 517560 }])).breaks
    ).toBe(0)
    // A recording that steps back five hours.
    expect(
      (
        await readPacketList(
          file,
          [0, 1, 2],
          [{ output: 1, stream: 0, previous: 3600, current: 3600 - 5 * 3600 * 90000 }]
        )
      ).breaks
    ).toBe(1)
    // A subtitle's time may repeat or step back: ffmpeg does not correct subtitles.
    expect(
      (await readPacketList(file, [0, 1, 2], [{ output: 1, stream: 2, previous: 90000, current: 1000 }])).breaks
    ).toBe(0)
  })

  it('notes a presentation time outside the 33-bit MPEG clock (a clock ffmpeg unwrapped)', async () => {
    const below = await list([line(0, -90000, -90000, 3600), line(0, -86400, -86400, 3600)])
    expect((await readPacketList(below, [0, 1, 2], [])).outsideMpegClock).toBe(true)
    const above = Math.round(MPEG_CLOCK_WRAP_SEC * 90000) + 3600
    const past = await list([line(0, above, above, 3600)])
    expect((await readPacketList(past, [0, 1, 2], [])).outsideMpegClock).toBe(true)
  })

  it('lists a real source in a pass of its own: every packet the demuxer reads, where each stream ends', async () => {
    const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
    const source = await makeSample('multiTrackMkv', dir)
    const read = await scanPackets(runner, source, [0, 1, 2, 3, 4], join(dir, 'scan.crc'))
    expect(read.streams.get(0)?.packets).toBe(300)
    expect(read.streams.get(1)?.end).toBeCloseTo(12, 1)
    expect(read.streams.get(4)?.end).toBeCloseTo(10, 1)
    expect(read.breaks).toBe(0)
  })
})
