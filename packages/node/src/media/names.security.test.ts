import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import {
  BlobRefSchema,
  BlobRequestSchema,
  DEFAULT_PROFILES,
  HandoffSchema,
  HashSchema,
  OfferSchema,
  ProfileSchema,
  PROTOCOL_VERSION,
  ResultPushSchema
} from '@ffmesh/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../logger.js'
import { createBlobStore } from '../store/blob-store.js'
import { normalizeWatch } from '../watch/watch-validation.js'
import { convertUnit } from './convert.js'
import { concatInput, inputArgs, mediaPath, outputArgs, PROTOCOL_WHITELIST } from './ffmpeg-args.js'
import { createFfmpegRunner } from './runner.js'

/**
 * Names from peers or watched folders never become paths or ffmpeg inputs unchecked.
 * The same hostile corpus goes to every entry point; each refuses it before any file-system or
 * ffmpeg call. (A symlink out of a watched folder: watch/watch-intake.test.ts.)
 */
export const HOSTILE_NAMES = [
  '../x', '/etc/passwd', '////etc/x', 'a/../../x', 'C:../x', 'x\0y', '-x', '-i', 'concat:x', 'concat:a|b',
  'file:x', 'http://x', 'pipe:0', 'subfile,,start,0,end,1,,:x', '', '.', '..', ' ', 'a'.repeat(4096)
]

const run = promisify(execFile)
const logger = createLogger({ level: 'silent' })
const h264 = DEFAULT_PROFILES.find(p => p.name === 'h264') as NonNullable<typeof DEFAULT_PROFILES[number]>
const hash = 'ab'.repeat(64)
const jobId = '01JD4Y5N3ZQ7X8W9V0T1S2R3P4'
const peer = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'
let dir: string

beforeAll(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-names-')) })
afterAll(async () => { await fs.rm(dir, { recursive: true, force: true }) })

describe('hostile names at every entry point', () => {
  it('blob hashes: the schemas of gossip BlobRefs and of the blob and result stream headers refuse them', () => {
    for (const name of [...HOSTILE_NAMES, hash.toUpperCase(), `${hash}/`, `../${hash.slice(3)}`]) {
      expect(HashSchema.safeParse(name).success, name).toBe(false)
      expect(BlobRefSchema.safeParse({ hash: name, size: 1 }).success).toBe(false)
      expect(BlobRequestSchema.safeParse({ hash: name, offset: 0 }).success).toBe(false)
      expect(
        ResultPushSchema.safeParse({ jobId, index: 0, attempt: 1, hash: name, size: 1, frames: 1, durationSec: 1 })
          .success
      ).toBe(false)
    }
  })

  it('the blob store refuses them before touching the disk', async () => {
    const store = await createBlobStore({ dir: path.join(dir, 'blobs'), tmpDir: path.join(dir, 'tmp') })
    const victim = path.join(dir, 'victim')
    await fs.writeFile(victim, 'keep me')
    for (const name of [...HOSTILE_NAMES, '../victim', `../../${path.basename(dir)}/victim`]) {
      expect(() => store.path(name), name).toThrow(TypeError)
      await expect(store.has(name)).rejects.toThrow(TypeError)
      await expect(store.remove(name)).rejects.toThrow(TypeError)
      await expect(store.importFile(victim, { hash: name })).rejects.toThrow(TypeError)
    }
    expect(await fs.readFile(victim, 'utf8')).toBe('keep me')
    expect(await fs.readdir(path.join(dir, 'blobs'))).toEqual([])
  })

  it('profiles in offers and handoffs: names, presets and unknown fields are refused by the strict schema', () => {
    const unit = {
      jobId,
      index: 0,
      kind: 'whole',
      inputs: [{ hash, size: 1 }],
      preRoll: false,
      range: null,
      durationSec: 1,
      inputFormat: 'source',
      profile: h264
    }
    const offer = (profile: unknown): unknown => ({
      v: PROTOCOL_VERSION,
      ts: 1,
      type: 'offer',
      attempt: 1,
      unit: { ...unit, profile },
      expectedOutputBytes: 1
    })
    const handoff = (profile: unknown): unknown => ({
      v: PROTOCOL_VERSION,
      ts: 1,
      type: 'handoff',
      to: peer,
      jobId,
      source: { hash, size: 1 },
      profile
    })
    expect(OfferSchema.safeParse(offer(h264)).success).toBe(true)
    expect(HandoffSchema.safeParse(handoff(h264)).success).toBe(true)
    const bad: unknown[] = [
      ...HOSTILE_NAMES.map(name => ({ ...h264, name })),
      ...HOSTILE_NAMES.map(preset => ({ ...h264, video: { ...h264.video, preset } })),
      ...HOSTILE_NAMES.map(container => ({ ...h264, container })),
      { ...h264, args: ['-i', 'http://x'] },
      { ...h264, video: { ...h264.video, extraArgs: '-f' } },
      { ...h264, audio: { encoder: 'aac', bitrateKbps: 128, filter: 'amovie=/etc/passwd' } }
    ]
    for (const profile of bad) {
      expect(ProfileSchema.safeParse(profile).success, JSON.stringify(profile).slice(0, 80)).toBe(false)
      expect(OfferSchema.safeParse(offer(profile)).success).toBe(false)
      expect(HandoffSchema.safeParse(handoff(profile)).success).toBe(false)
    }
    for (const inputFormat of HOSTILE_NAMES) {
      expect(OfferSchema.safeParse({ ...(offer(h264) as object), unit: { ...unit, inputFormat } }).success).toBe(false)
    }
  })

  it('watch paths must be absolute and free of NUL', () => {
    for (const p of HOSTILE_NAMES.filter(n => !n.startsWith('/'))) {
      expect(() => normalizeWatch({ path: p, profile: 'h264', output: '/tmp/out' }), p).toThrow()
      expect(() => normalizeWatch({ path: '/tmp/in', profile: 'h264', output: p }), p).toThrow()
    }
    expect(() => normalizeWatch({ path: '/tmp/in\0x', profile: 'h264', output: '/tmp/out' })).toThrow()
  })

  it('a local path that looks like an option or a protocol reaches ffmpeg as a file', () => {
    expect(mediaPath('/concat:x')).toBe('file:/concat:x')
    expect(mediaPath('/-x')).toBe('file:/-x')
    expect(mediaPath('-x')).toBe(`file:${path.resolve('-x')}`)
    expect(mediaPath('http://x')).toBe(`file:${path.resolve('http://x')}`)
    expect(inputArgs('/concat:a|b')).toEqual(['-protocol_whitelist', PROTOCOL_WHITELIST, '-i', 'file:/concat:a|b'])
    expect(outputArgs('/-y', 'matroska')).toEqual([
      '-protocol_whitelist',
      PROTOCOL_WHITELIST,
      '-f',
      'matroska',
      'file:/-y'
    ])
    expect(PROTOCOL_WHITELIST.split(',').sort()).toEqual(['file', 'pipe'])
    // Pieces read as one input: every entry a file: path, the concat protocol over files only.
    expect(concatInput(['/-x.ts', '/http:y.ts'], 'mpegts')).toEqual({
      args: ['-protocol_whitelist', 'concat,file', '-f', 'mpegts', '-i', 'concat:file:/-x.ts|file:/http:y.ts']
    })
  })

  it('the runner spawns ffmpeg with -nostdin, the whitelist before every input, and file: paths only', async () => {
    const argvLog = path.join(dir, 'argv.log')
    const spy = path.join(dir, 'ffmpeg-spy')
    // Records each argv (NUL-separated, one call per line) and runs the real ffmpeg.
    await fs.writeFile(
      spy,
      `#!/bin/sh\nprintf '%s\\0' "$@" >> '${argvLog}'\necho >> '${argvLog}'\nexec ffmpeg "$@"\n`,
      { mode: 0o755 }
    )
    const runner = createFfmpegRunner({ ffmpegPath: spy, logger })
    // A real media file whose name is an option, a protocol and a pipe all at once.
    const source = path.join(dir, '-i concat:x|http:y pipe:0.mkv')
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=10:duration=1',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-f',
      'matroska',
      `file:${source}`
    ])
    const outFile = path.join(dir, '-out concat:z.mkv')
    const spec = {
      jobId,
      index: 0,
      kind: 'whole' as const,
      inputs: [{ hash, size: 1 }],
      preRoll: false,
      range: null,
      durationSec: 1,
      inputFormat: 'source' as const,
      profile: { ...h264, audio: 'drop' as const }
    }
    const result = await convertUnit(runner, { spec, inputs: [source], outFile })
    expect(result.frames).toBe(10)
    const calls = (await fs.readFile(argvLog, 'utf8'))
      .split('\n')
      .filter(l => l !== '')
      .map(l => l.split('\0').slice(0, -1))
    const encodes = calls.filter(a => a.includes('-progress'))
    expect(encodes.length).toBeGreaterThan(0)
    for (const argv of encodes) {
      expect(argv).toContain('-nostdin')
      argv.forEach((arg, i) => {
        if (arg !== '-i') return
        const input = argv[i + 1]
        expect(input === 'pipe:0' || input.startsWith('file:/'), input).toBe(true)
        expect(argv.slice(0, i).lastIndexOf('-protocol_whitelist')).toBeGreaterThanOrEqual(0)
        expect(argv[argv.slice(0, i).lastIndexOf('-protocol_whitelist') + 1]).toBe(PROTOCOL_WHITELIST)
      })
      expect(argv).toContain(`file:${source}`)
      expect(argv).toContain(`file:${outFile}`)
      expect(argv).not.toContain(source)
    }
  })
})
