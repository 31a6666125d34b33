import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEventBus } from '../events.js'
import { createLogger } from '../logger.js'
import { createIntake } from './intake.js'
import { createWatchStore } from './watch-store.js'
import { createHarness, media, put, type Harness } from '../../../../test/helpers/watch-harness.js'

let h: Harness
beforeEach(async () => { h = await createHarness() })
afterEach(async () => { await h.close() })

describe('watched folder lifecycle', () => {
  it('pauses a folder that disappears, touches nothing, and resumes when it returns', async () => {
    const root = path.join(h.dir, 'disk', 'videos')
    const away = path.join(h.dir, 'unmounted')
    const kept = await put(path.join(root, 'kept.mkv'), media('kept'))
    const m = h.manager([h.watch({ path: root })])
    await m.start()
    await h.waitFor('the first file', () => h.submits.length === 1)
    await rename(root, away)
    await h.waitFor('the pause', () => m.list()[0].state === 'paused')
    expect(m.list()[0].reason).toMatch(/not reachable.*ENOENT/)
    expect(h.events.filter((e) => e.type === 'watch:paused')).toHaveLength(1)
    // Two more polls find it still gone: a pause is reported once, not at every look.
    const checks = m.checks(root)
    await h.waitFor('two more polls', () => m.checks(root) >= checks + 2)
    expect(h.events.filter((e) => e.type === 'watch:paused')).toHaveLength(1)
    await put(path.join(away, 'while-away.mkv'), media('added while unmounted'))
    await rename(away, root)
    await h.waitFor('the resume', () => m.list()[0].state === 'active')
    expect(m.list()[0].reason).toBeNull()
    expect(h.events.filter((e) => e.type === 'watch:resumed')).toHaveLength(1)
    await h.waitFor('the file added meanwhile', () => h.submits.length === 2)
    await put(path.join(root, 'after.mkv'), media('after'))
    await h.waitFor('a new file', () => h.submits.length === 3)
    expect(await readFile(kept, 'utf8')).toBe(media('kept'))
    expect(h.submits.map((s) => path.basename(s.source)).sort()).toEqual(['after.mkv', 'kept.mkv', 'while-away.mkv'])
  })

  it('starts paused when a configured folder is missing and resumes when it appears', async () => {
    const root = path.join(h.dir, 'later')
    const m = h.manager([h.watch({ path: root })])
    await m.start()
    expect(m.list()[0]).toMatchObject({ state: 'paused', reason: expect.stringMatching(/not reachable/) })
    await put(path.join(root, 'x.mkv'), media('x'))
    await h.waitFor('the resume and submit', () => h.submits.length === 1)
    expect(m.list()[0].state).toBe('active')
  })

  it('keeps, moves (never overwriting) or deletes the source only once its job is done', async () => {
    const roots = { keep: path.join(h.dir, 'keep'), move: path.join(h.dir, 'move'), del: path.join(h.dir, 'del') }
    const moveTo = path.join(h.dir, 'done')
    const files = {
      keep: await put(path.join(roots.keep, 'k.mkv'), media('k')),
      move: await put(path.join(roots.move, 'sub', 'm.mkv'), media('m')),
      del: await put(path.join(roots.del, 'd.mkv'), media('d')),
      failed: await put(path.join(roots.del, 'f.mkv'), media('f'))
    }
    await put(path.join(moveTo, 'sub', 'm.mkv'), 'already there')
    const m = h.manager([
      h.watch({ path: roots.keep }),
      h.watch({ path: roots.move, afterSuccess: 'move', moveTo }),
      h.watch({ path: roots.del, afterSuccess: 'delete' })
    ])
    await m.start()
    await h.waitFor('four jobs', () => h.submits.length === 4)
    const job = (file: string): string => h.submits.find((s) => s.source === file)?.id ?? 'none'
    // Done with every submission, and no source touched before its job ended.
    await h.waitIdle(m)
    for (const file of Object.values(files)) await stat(file)
    h.endJob({ id: job(files.failed), state: 'failed', source: files.failed, output: null })
    for (const key of ['keep', 'move', 'del'] as const) {
      h.endJob({ id: job(files[key]), state: 'done', source: files[key], output: '/out/x' })
    }
    await m.stop()
    expect(await readFile(files.keep, 'utf8')).toBe(media('k'))
    expect(await readFile(files.failed, 'utf8')).toBe(media('f'))
    await expect(stat(files.del)).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(stat(files.move)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await readFile(path.join(moveTo, 'sub', 'm.mkv'), 'utf8')).toBe('already there')
    expect(await readFile(path.join(moveTo, 'sub', 'm-1.mkv'), 'utf8')).toBe(media('m'))
    expect((await readdir(path.join(moveTo, 'sub'))).sort()).toEqual(['m-1.mkv', 'm.mkv'])
  })

  it('leaves a source alone when it changed after it was converted', async () => {
    const root = path.join(h.dir, 'del')
    const file = await put(path.join(root, 'd.mkv'), media('d'))
    const m = h.manager([h.watch({ path: root, afterSuccess: 'delete' })])
    await m.start()
    await h.waitFor('the job', () => h.submits.length === 1)
    await writeFile(file, media('d, edited meanwhile'))
    h.endJob({ id: h.submits[0].id, state: 'done', source: file, output: '/out/d.mkv' })
    // stop() waits for the job ends already received, this one's afterSuccess included.
    await m.stop()
    expect(await readFile(file, 'utf8')).toBe(media('d, edited meanwhile'))
  })

  it('validates, persists and removes watches added at run time', async () => {
    const root = path.join(h.dir, 'added')
    const fromConfig = path.join(h.dir, 'configured')
    await mkdir(root)
    await mkdir(fromConfig)
    const first = h.manager([h.watch({ path: fromConfig })])
    await first.start()
    await expect(first.add(h.watch({ path: 'relative/dir' }))).rejects.toMatchObject({ code: 'WATCH_PATH_INVALID' })
    await expect(first.add(h.watch({ path: path.join(h.dir, 'missing') }))).rejects.toMatchObject({
      code: 'WATCH_PATH_INVALID'
    })
    await expect(first.add(h.watch({ path: root, output: root + '/' }))).rejects.toMatchObject({
      code: 'WATCH_PATH_INVALID'
    })
    await expect(first.remove(path.join(h.dir, 'nope'))).rejects.toMatchObject({ code: 'WATCH_NOT_FOUND' })
    const added = await first.add(h.watch({ path: root, profile: 'opus' }))
    expect(added).toMatchObject({
      path: root,
      profile: 'opus',
      state: 'active',
      reason: null,
      submitted: [],
      skipped: []
    })
    await first.remove(fromConfig + '/')
    expect(first.list().map((w) => w.path)).toEqual([root])
    await first.stop()

    const second = h.manager([h.watch({ path: fromConfig })])
    await second.start()
    expect(second.list().map((w) => w.path)).toEqual([root])
    await put(path.join(root, 'a.flac'), media('a'))
    await h.waitFor('a submit from the added watch', () => h.submits.length === 1)
    expect(h.submits[0].profile).toBe('opus')
  })

  it('adds a folder asked for twice at once once: after its removal nothing takes files from it', async () => {
    const raced = path.join(h.dir, 'raced')
    const other = path.join(h.dir, 'other')
    await mkdir(raced)
    await mkdir(other)
    const m = h.manager([])
    await m.start()
    await m.add(h.watch({ path: other }))
    // A double click in the dashboard: two adds of one folder, both before either is done.
    await Promise.all([m.add(h.watch({ path: raced })), m.add(h.watch({ path: raced }))])
    expect(m.list().map(w => w.path).sort()).toEqual([other, raced])
    await m.remove(raced)
    await put(path.join(raced, 'after-removal.mkv'), media('after removal'))
    // Two files taken from the folder still watched: a watcher left behind would have had the time.
    await put(path.join(other, 'one.mkv'), media('one'))
    await h.waitFor('the first file of the other folder', () => h.submits.length >= 1)
    await put(path.join(other, 'two.mkv'), media('two'))
    await h.waitFor('the second file of the other folder', () => h.submits.some(s => s.source.endsWith('two.mkv')))
    expect(h.submits.map(s => path.basename(s.source)).sort()).toEqual(['one.mkv', 'two.mkv'])
  })

  it('refuses a name with a NUL byte before anything reaches submit', async () => {
    const bus = createEventBus()
    const store = createWatchStore(h.db)
    const skipped: string[] = []
    const intake = createIntake({
      logger: createLogger({ level: 'silent' }),
      events: bus,
      store,
      submit: async () => { throw new Error('must not be called') },
      isNodeOutput: () => false,
      hashFile: async () => { throw new Error('must not be called') },
      clock: Date.now
    })
    const target = {
      watch: h.watch({ path: h.dir }),
      realRoot: h.dir,
      onSubmitted: () => {},
      onSkipped: (s: { code: string }) => {
        skipped.push(s.code)
      }
    }
    await intake.take(target, path.join(h.dir, 'evil\0.mkv'), { size: 1, mtimeMs: 1 })
    await intake.take(target, `${h.dir}/a/../b.mkv`, { size: 1, mtimeMs: 1 })
    await intake.close()
    expect(skipped).toEqual(['SOURCE_NAME_INVALID', 'SOURCE_NAME_INVALID'])
    expect(h.submits).toHaveLength(0)
  })
})
