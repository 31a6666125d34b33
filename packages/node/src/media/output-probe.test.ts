import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ffmpeg } from '../../../../test/fixtures/media.js'
import { createLogger } from '../logger.js'
import { tallyMatroska, type MatroskaTally } from './matroska-tally.js'
import { probeFromTally } from './output-probe.js'
import { readProbe } from './probe.js'
import { createFfmpegRunner } from './runner.js'

const runner = createFfmpegRunner({ logger: createLogger({ level: 'silent' }) })
const PICTURE = ['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=24:d=2']
const SOUND = ['-f', 'lavfi', '-i', 'sine=f=440:d=2']
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast']
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ffm-output-probe-'))
  await writeFile(join(dir, 'subs.srt'), '1\n00:00:00,500 --> 00:00:01,500\nHello\n')
  await writeFile(join(dir, 'chapters.txt'), ';FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=One\n')
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function made (name: string, args: string[]): Promise<{ file: string, tally: MatroskaTally }> {
  const file = join(dir, name)
  await ffmpeg([...args, file])
  return { file, tally: (await tallyMatroska(file)) as MatroskaTally }
}

describe("a Matroska output's streams, from the walk of it", () => {
  it('says what ffprobe says: the streams in order with their types, the duration, no chapters', async () => {
    const outputs = [
      await made('plain.mkv', [...PICTURE, ...SOUND, ...X264, '-c:a', 'aac']),
      await made('tracks.mkv', [
        ...PICTURE, ...SOUND, '-f', 'lavfi', '-i', 'sine=f=880:d=2', '-i', join(dir, 'subs.srt'),
        '-map', '0', '-map', '1', '-map', '2', '-map', '3', ...X264, '-c:a:0', 'aac', '-c:a:1', 'libopus', '-c:s', 'srt'
      ]),
      await made('sound.mka', [...SOUND, '-c:a', 'libmp3lame']),
      await made('vp9.webm', [...PICTURE, ...SOUND, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-c:a', 'libopus'])
    ]
    for (const { file, tally } of outputs) {
      const walked = probeFromTally(tally)
      const probed = await readProbe(runner, file)
      expect(walked, file).not.toBeNull()
      expect(walked?.streams?.map(s => [s.index, s.codec_type]), file).toEqual(
        probed.streams?.map(s => [s.index, s.codec_type])
      )
      for (const [i, s] of (walked?.streams ?? []).entries()) {
        if (s.codec_name != null) expect(s.codec_name, `${file} stream ${i}`).toBe(probed.streams?.[i]?.codec_name)
        expect(s.disposition?.attached_pic).toBe(probed.streams?.[i]?.disposition?.attached_pic)
      }
      expect(Number(walked?.format?.duration)).toBeCloseTo(Number(probed.format?.duration), 5)
      expect(walked?.chapters).toEqual(probed.chapters ?? [])
    }
  }, 60_000)

  it('leaves an output with chapters, attachments or a title to ffprobe', async () => {
    const withChapters = await made('chapters.mkv', [
      ...PICTURE, '-i', join(dir, 'chapters.txt'), '-map', '0', '-map_chapters', '1', ...X264
    ])
    const withAttachment = await made('attachment.mkv', [
      ...PICTURE, ...X264, '-attach', join(dir, 'subs.srt'), '-metadata:s:t', 'mimetype=text/plain'
    ])
    const withTitle = await made('title.mkv', [...PICTURE, ...X264, '-metadata', 'title=A film'])
    expect(withChapters.tally.hasChapters).toBe(true)
    expect(withAttachment.tally.hasAttachments).toBe(true)
    expect(withTitle.tally.title).toBe('A film')
    for (const { tally } of [withChapters, withAttachment, withTitle]) expect(probeFromTally(tally)).toBeNull()
  }, 60_000)
})
