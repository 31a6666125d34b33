import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobStatus, LibraryStatus, StatsReport } from '@ffmesh/protocol'
import {
  ffmesh,
  ffmeshJson,
  makeDataDir,
  startNodeProcess,
  waitUntil,
  type NodeProcess
} from './helpers/node-harness.js'
import { controlCall } from './helpers/control-call.js'
import { makeAudio, makeImage, makeVideo, probeStream, sha256, treeFiles } from './helpers/library-tree.js'

interface ScanJson {
  found: number
  submitted: number
  skipped: Array<{ path: string; reason: string }>
  failed: Array<{ path: string; error: { code: string } }>
}

let root: string
beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-lib-test-')) })
afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

const PROFILES = ['--profile', 'video=h265', '--profile', 'audio=opus', '--profile', 'image=webp']

/**
 * Nested folders, H.264 and HEVC videos, one name in two folders, audio, a picture, sidecars, and what a scan must
 * leave alone.
 */
async function makeLibrary (lib: string): Promise<void> {
  await makeVideo(path.join(lib, 'Show/Season 1/E01.mkv'), { tone: 300 })
  await fs.writeFile(path.join(lib, 'Show/Season 1/E01.en.srt'), '1\n00:00:00,500 --> 00:00:02,000\nHello\n')
  await makeVideo(path.join(lib, 'Show/Season 2/E01.mkv'), { tone: 500 })
  await makeVideo(path.join(lib, 'Show/Season 2/E02.mkv'), { codec: 'libx265', crf: 28 })
  await makeVideo(path.join(lib, 'Films/Film.mp4'), { tone: 700 })
  await fs.writeFile(path.join(lib, 'Films/Film.nfo'), '<movie><title>Film</title></movie>\n')
  await makeVideo(path.join(lib, 'Films/Clip.mkv'), { codec: 'libx265', crf: 30 })
  await makeAudio(path.join(lib, 'Music/Album/01 Track.flac'))
  await makeImage(path.join(lib, 'Photos/2024/beach.png'))
  // Never looked at: a hidden file, a hidden folder, partial downloads.
  await fs.copyFile(path.join(lib, 'Films/Film.mp4'), path.join(lib, 'Films/.hidden.mp4'))
  await fs.mkdir(path.join(lib, '.stash'))
  await fs.copyFile(path.join(lib, 'Films/Film.mp4'), path.join(lib, '.stash/old.mp4'))
  await fs.writeFile(path.join(lib, 'Films/Big.mkv.part'), 'half a download')
  await fs.writeFile(path.join(lib, 'Films/Other.mp4.crdownload'), 'half a download')
}

describe('libraries on a real node', () => {
  let node: NodeProcess | null = null
  let dataDir: string
  const lib = (): string => path.join(root, 'library')
  const out = (): string => path.join(root, 'converted')
  afterAll(async () => { await node?.stop() })

  it('scan --wait --json converts every file that needs it once into the mirrored tree, skips HEVC with ALREADY_TARGET, and stats agree', async () => {
    await makeLibrary(lib())
    dataDir = await makeDataDir({ slots: 2, extra: { library: { pollSeconds: 1 } } })
    node = await startNodeProcess(dataDir)
    const r = await ffmesh(['scan', lib(), ...PROFILES, '--out', out(), '--wait', '--json'], {
      dataDir,
      timeoutMs: 400_000
    })
    expect(r.code, r.stderr).toBe(0)
    const scan = JSON.parse(r.stdout) as ScanJson
    expect(scan.failed).toEqual([])
    expect(scan.found).toBe(7)
    expect(scan.submitted).toBe(5)
    expect(scan.skipped.map(s => [path.relative(lib(), s.path), s.reason]).sort()).toEqual([
      ['Films/Clip.mkv', 'ALREADY_TARGET'],
      ['Show/Season 2/E02.mkv', 'ALREADY_TARGET']
    ])
    expect(scan.found).toBe(scan.submitted + scan.skipped.length + scan.failed.length)

    expect(await treeFiles(out())).toEqual([
      'Films/Film.mkv',
      'Films/Film.nfo',
      'Music/Album/01 Track.opus',
      'Photos/2024/beach.webp',
      'Show/Season 1/E01.en.srt',
      'Show/Season 1/E01.mkv',
      'Show/Season 2/E01.mkv'
    ])
    expect((await probeStream(path.join(out(), 'Show/Season 2/E01.mkv'))).codec).toBe('hevc')
    expect((await probeStream(path.join(out(), 'Music/Album/01 Track.opus'), 'a:0')).codec).toBe('opus')
    expect(await fs.readFile(path.join(out(), 'Show/Season 1/E01.en.srt'), 'utf8')).toContain('Hello')

    // Each source once: seven jobs, one per media file, none for the hidden or partial ones.
    const jobs = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
    expect(jobs.map(j => path.relative(lib(), j.source)).sort()).toEqual([
      'Films/Clip.mkv',
      'Films/Film.mp4',
      'Music/Album/01 Track.flac',
      'Photos/2024/beach.png',
      'Show/Season 1/E01.mkv',
      'Show/Season 2/E01.mkv',
      'Show/Season 2/E02.mkv'
    ])
    const skipped = jobs.filter(j => j.state === 'skipped')
    expect(skipped.map(j => j.reason?.code)).toEqual(['ALREADY_TARGET', 'ALREADY_TARGET'])
    const human = await ffmesh(['status'], { dataDir })
    expect(human.stdout).toContain('ALREADY_TARGET')
    expect(human.stdout).toMatch(/7 jobs: 5 done, 2 skipped/)

    const done = jobs.filter(j => j.state === 'done')
    const stats = await ffmeshJson<StatsReport>(['stats'], { dataDir })
    expect(stats).toMatchObject({ converted: 5, skipped: 2, failed: 0, skippedByReason: { ALREADY_TARGET: 2 } })
    let bytesIn = 0
    let bytesOut = 0
    for (const j of done) {
      bytesIn += (await fs.stat(j.source)).size
      bytesOut += (await fs.stat(j.output as string)).size
    }
    expect(stats.bytesIn).toBe(bytesIn)
    expect(stats.bytesOut).toBe(bytesOut)
    expect(stats.bytesSaved).toBe(bytesIn - bytesOut)
    expect(stats.last7Days.converted).toBe(5)
    expect(stats.byNode).toHaveLength(1)
    expect(stats.byNode[0]?.units).toBe(done.reduce((n, j) => n + j.units.length, 0))
    expect(stats.byNode[0]?.seconds).toBeGreaterThan(0)
  })

  it('a second scan after a restart submits nothing; a file changed in place is converted again, replacing its earlier output', async () => {
    await node?.stop('SIGTERM')
    node = await startNodeProcess(dataDir)
    const again = await ffmeshJson<ScanJson>(['scan', lib(), ...PROFILES, '--out', out()], { dataDir })
    expect(again.submitted).toBe(0)
    expect(again.found).toBe(7)
    expect(again.skipped.every(s => s.reason === 'UNCHANGED')).toBe(true)
    expect(await ffmeshJson<JobStatus[]>(['status'], { dataDir })).toHaveLength(7)
    // Touched, not changed: an audio file is planned whole, so its hash is known and compared.
    const track = path.join(lib(), 'Music/Album/01 Track.flac')
    await fs.utimes(track, new Date(), new Date(Date.now() + 60_000))
    const touched = await ffmeshJson<ScanJson>(['scan', lib(), ...PROFILES, '--out', out()], { dataDir })
    expect(touched.submitted).toBe(0)
    expect(touched.skipped.find(s => s.path === track)?.reason).toBe('UNCHANGED')
    // Subtitles a tool adds or improves after the conversion reach the mirror with the next scan.
    const srt = path.join(lib(), 'Show/Season 1/E01.en.srt')
    await fs.writeFile(srt, '1\n00:00:00,500 --> 00:00:02,000\nHello, corrected\n')
    await fs.utimes(srt, new Date(), new Date(Date.now() + 120_000))
    await fs.writeFile(path.join(lib(), 'Show/Season 2/E01.de.srt'), '1\n00:00:00,500 --> 00:00:02,000\nHallo\n')
    const subtitles = await ffmeshJson<ScanJson>(['scan', lib(), ...PROFILES, '--out', out()], { dataDir })
    expect(subtitles.submitted).toBe(0)
    expect(await fs.readFile(path.join(out(), 'Show/Season 1/E01.en.srt'), 'utf8')).toContain('Hello, corrected')
    expect(await fs.readFile(path.join(out(), 'Show/Season 2/E01.de.srt'), 'utf8')).toContain('Hallo')

    const film = path.join(lib(), 'Films/Film.mp4')
    const before = await sha256(path.join(out(), 'Films/Film.mkv'))
    await makeVideo(film, { tone: 900, seconds: 4 })
    const changed = await ffmeshJson<ScanJson>(['scan', lib(), ...PROFILES, '--out', out(), '--wait'], {
      dataDir,
      timeoutMs: 300_000
    })
    expect(changed).toMatchObject({ found: 7, submitted: 1, failed: [] })
    const jobs = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
    expect(jobs).toHaveLength(8)
    expect(jobs.filter(j => j.source === film).map(j => j.state)).toEqual(['done', 'done'])
    expect((await treeFiles(out())).filter(f => f.startsWith('Films/'))).toEqual(['Films/Film.mkv', 'Films/Film.nfo'])
    expect(await sha256(path.join(out(), 'Films/Film.mkv'))).not.toBe(before)
    expect((await probeStream(path.join(out(), 'Films/Film.mkv'))).packets).toBe(100)
  })

  it('a polling library picks up a new file without change notifications', async () => {
    const photos = path.join(root, 'nas-photos')
    const photosOut = path.join(root, 'nas-photos-webp')
    await makeImage(path.join(photos, 'first.png'))
    const added = await ffmeshJson<LibraryStatus>(
      ['library', 'add', photos, '--profile', 'image=webp', '--out', photosOut, '--poll'],
      { dataDir }
    )
    expect(added).toMatchObject({ path: photos, poll: true })
    await waitUntil(
      async () => (await treeFiles(photosOut)).includes('first.webp'),
      'the first picture converted',
      120_000
    )
    await makeImage(path.join(photos, 'later/second.png'))
    await waitUntil(
      async () => (await treeFiles(photosOut)).includes('later/second.webp'),
      'the new picture found by polling',
      120_000
    )
    const list = await ffmeshJson<LibraryStatus[]>(['library', 'list'], { dataDir })
    expect(list.find(l => l.path === photos)?.lastScan?.found).toBe(2)
    expect((await ffmesh(['library', 'remove', photos], { dataDir })).code).toBe(0)
    expect(await ffmeshJson<LibraryStatus[]>(['library', 'list'], { dataDir })).toEqual([])
  })

  it('a library with notifications takes a file dropped in once it has settled, without waiting for the rescan', async () => {
    const inbox = path.join(root, 'inbox-library')
    const inboxOut = path.join(root, 'inbox-library-webp')
    await fs.mkdir(inbox)
    await ffmeshJson<LibraryStatus>(['library', 'add', inbox, '--profile', 'image=webp', '--out', inboxOut], {
      dataDir
    })
    await makeImage(path.join(root, 'staging.png'))
    await fs.mkdir(path.join(inbox, 'new'))
    await fs.rename(path.join(root, 'staging.png'), path.join(inbox, 'new/dropped.png'))
    await waitUntil(
      async () => (await treeFiles(inboxOut)).includes('new/dropped.webp'),
      'the dropped picture converted',
      120_000
    )
    expect(await ffmeshJson<LibraryStatus[]>(['library', 'list'], { dataDir })).toMatchObject([
      { path: inbox, poll: false, state: 'active' }
    ])
  })

  it('a library added twice at once is added once: after its removal nothing is taken from it', async () => {
    const twin = path.join(root, 'twin-library')
    const twinOut = path.join(root, 'twin-library-webp')
    await fs.mkdir(twin)
    const socket = path.join(dataDir, 'control.sock')
    const body = { path: twin, profiles: { image: 'webp' }, output: twinOut, settleSeconds: 0.5 }
    // A double click in the dashboard: both requests reach the node before either is answered.
    const added = await Promise.all([1, 2].map(async () => await controlCall(socket, 'POST', '/v1/libraries', body)))
    expect(added.map(r => r.status)).toEqual([201, 201])
    await ffmeshJson(['library', 'remove', twin], { dataDir })
    await makeImage(path.join(twin, 'after-removal.png'))
    // A picture the library still there takes: a watcher left behind on the twin had the same time.
    await makeImage(path.join(root, 'staging-2.png'))
    await fs.rename(path.join(root, 'staging-2.png'), path.join(root, 'inbox-library', 'second.png'))
    await waitUntil(
      async () => (await treeFiles(path.join(root, 'inbox-library-webp'))).includes('second.webp'),
      'the other library\'s picture converted',
      120_000
    )
    expect(await treeFiles(twinOut)).toEqual([])
    expect((await ffmeshJson<LibraryStatus[]>(['library', 'list'], { dataDir })).map(l => l.path)).not.toContain(twin)
  })
})

describe('a library from config.yaml whose folder is missing at start (a disk not mounted yet)', () => {
  it('is listed as paused with the reason, and starts by itself once the folder is there', async () => {
    const mount = path.join(root, 'late-mount')
    const mountOut = path.join(root, 'late-mount-webp')
    const dataDir = await makeDataDir({
      slots: 1,
      extra: { libraries: [{ path: mount, profiles: { image: 'webp' }, output: mountOut, poll: true }] }
    })
    const node = await startNodeProcess(dataDir)
    try {
      const [paused] = await ffmeshJson<LibraryStatus[]>(['library', 'list'], { dataDir })
      expect(paused).toMatchObject({ path: mount, state: 'paused' })
      expect(paused?.reason).toContain('not an existing folder')
      await makeImage(path.join(mount, 'photo.png'))
      await waitUntil(
        async () => (await treeFiles(mountOut)).includes('photo.webp'),
        'the library to start and convert',
        120_000
      )
      expect(await ffmeshJson<LibraryStatus[]>(['library', 'list'], { dataDir })).toMatchObject([
        { path: mount, state: 'active' }
      ])
    } finally {
      await node.stop()
    }
  })
})

describe('a conversion that saves nothing', () => {
  it('ends skipped with NO_SAVING, no output kept and the original untouched; --keep-larger keeps it', async () => {
    const lib = path.join(root, 'lossy')
    // H.264 in MP4: not what the bloat profile (H.264 in Matroska) makes, so it is converted.
    const source = await makeVideo(path.join(lib, 'small.mp4'), { crf: 45 })
    const hash = await sha256(source)
    const bloat = {
      name: 'bloat',
      kind: 'video',
      container: 'mkv',
      video: { encoder: 'libx264', quality: 0, preset: 'ultrafast' },
      audio: 'copy'
    }
    const dataDir = await makeDataDir({ slots: 1, extra: { profiles: [bloat] } })
    const node = await startNodeProcess(dataDir)
    try {
      const outDir = path.join(root, 'lossy-out')
      const scan = await ffmeshJson<ScanJson>(['scan', lib, '--profile', 'video=bloat', '--out', outDir, '--wait'], {
        dataDir,
        timeoutMs: 200_000
      })
      expect(scan).toMatchObject({
        found: 1,
        submitted: 0,
        skipped: [{ path: source, reason: 'NO_SAVING' }],
        failed: []
      })
      const [job] = await ffmeshJson<JobStatus[]>(['status'], { dataDir })
      expect(job).toMatchObject({ state: 'skipped', output: null, reason: { code: 'NO_SAVING' } })
      expect(job?.bytesOut).toBeGreaterThan(job?.bytesIn as number)
      expect(await treeFiles(outDir)).toEqual([])
      expect(await sha256(source)).toBe(hash)
      expect(await treeFiles(lib)).toEqual(['small.mp4'])
      expect(await ffmeshJson<StatsReport>(['stats'], { dataDir })).toMatchObject({
        converted: 0,
        skipped: 1,
        skippedByReason: { NO_SAVING: 1 }
      })

      // A tree made for a device keeps every output (--keep-larger), larger or not.
      const kept = path.join(root, 'lossy-kept')
      await fs.mkdir(kept)
      await fs.copyFile(source, path.join(kept, 'small.mp4'))
      const keptOut = path.join(root, 'lossy-kept-out')
      const both = await ffmesh(['scan', kept, '--profile', 'video=bloat', '--out', keptOut, '--keep-larger', '--min-saving', '5'], {
        dataDir
      })
      expect(both.code).not.toBe(0)
      expect(both.stderr).toContain('BAD_ARGUMENTS')
      const keepAll = await ffmeshJson<ScanJson>(
        ['scan', kept, '--profile', 'video=bloat', '--out', keptOut, '--keep-larger', '--wait'],
        { dataDir, timeoutMs: 200_000 }
      )
      expect(keepAll).toMatchObject({ found: 1, skipped: [], failed: [] })
      const done = (await ffmeshJson<JobStatus[]>(['status'], { dataDir })).find(j => j.source.startsWith(kept))
      expect(done).toMatchObject({ state: 'done', output: path.join(keptOut, 'small.mkv') })
      expect((await fs.stat(path.join(keptOut, 'small.mkv'))).size).toBeGreaterThan((await fs.stat(source)).size)
    } finally {
      await node.stop()
    }
  })
})
