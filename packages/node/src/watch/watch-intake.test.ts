import { mkdir, rename, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createHarness, media, put, writeInPieces, type Harness } from '../../../../test/helpers/watch-harness.js'
import { paced } from '../../../../test/helpers/pace.js'

let h: Harness
beforeEach(async () => { h = await createHarness() })
afterEach(async () => { await h.close() })

const submittedFiles = (): string[] => h.submits.map((s) => path.basename(s.source)).sort()

describe('watched folder intake', () => {
  it('submits a file written in pieces once, only after it settled', async () => {
    const root = path.join(h.dir, 'in')
    await mkdir(root)
    const m = h.manager([h.watch({ path: root, settleSeconds: 1 })])
    await m.start()
    const file = path.join(root, 'slow.mkv')
    const pieces = [media('slow'), ...Array.from({ length: 6 }, (_, i) => `piece ${i}\n`)]
    const whole = pieces.join('')
    // A piece every 400 ms, inside the 1 s settle time. Checked is what was submitted, not the
    // clock: a file taken before it settled is submitted with part of its bytes, and again later.
    const stalls = await writeInPieces(file, pieces, 400, 1000)
    await h.waitFor('the whole file', () => h.submits.some(s => s.content === whole))
    await h.waitIdle(m)
    // Only a writer stalled past the settle time lets the file settle mid-write, once per stall.
    expect(h.submits.length).toBeLessThanOrEqual(1 + stalls)
    const last = h.submits.at(-1)
    expect(last).toMatchObject({ source: file, profile: 'h264', outDir: path.join(h.dir, 'out'), content: whole })
    expect(m.list()[0].submitted).toEqual([{ file, jobId: last?.id }])
  })

  it('never submits partial downloads, hidden files, filtered names or the node\'s own outputs', async () => {
    const root = path.join(h.dir, 'in')
    const out = path.join(root, 'converted')
    await mkdir(root)
    for (const name of [
      'a.mkv.part',
      'b.mp4.crdownload',
      'c.tmp',
      'd.mkv~',
      '.hidden.mkv',
      'sub/.cache/e.mkv',
      'notes.txt',
      'skip/f.mkv'
    ]) {
      await put(path.join(root, name), media(name))
    }
    const nodeOutput = await put(path.join(root, 'sub', 'already.mkv'), media('output written by the node'))
    h.nodeOutputs.add(nodeOutput)
    // `*.mkv*`: the partial downloads' names pass the include filter, so only their suffix keeps them out.
    const m = h.manager([h.watch({ path: root, output: out, include: ['*.mkv*', '*.mp4*'], exclude: ['skip/**'] })])
    await m.start()
    await put(path.join(out, 'result.mkv'), media('result in an output folder inside the watched one'))
    await put(path.join(root, 'sub', 'good.mkv'), media('good'))
    await put(path.join(root, 'top.mp4'), media('top'))
    // The two real sources come after everything else, which the watch then has decided too.
    await h.waitFor('the two real sources', () => h.submits.length >= 2)
    await h.waitIdle(m)
    expect(submittedFiles()).toEqual(['good.mkv', 'top.mp4'])
    for (const s of h.submits) {
      expect(path.isAbsolute(s.source)).toBe(true)
      expect(path.normalize(s.source)).toBe(s.source)
    }
  })

  it('picks up files that arrived while the node was down', async () => {
    const root = path.join(h.dir, 'in')
    await put(path.join(root, 'early.mkv'), media('early'))
    await put(path.join(root, 'deep', 'er.mkv'), media('deeper'))
    const m = h.manager([h.watch({ path: root })])
    await m.start()
    await h.waitFor('the initial scan', () => h.submits.length === 2)
    expect(submittedFiles()).toEqual(['early.mkv', 'er.mkv'])
  })

  it('does not descend into subfolders when recursive is false', async () => {
    const root = path.join(h.dir, 'in')
    await put(path.join(root, 'deep', 'er.mkv'), media('deeper'))
    await put(path.join(root, 'top.mkv'), media('top'))
    const m = h.manager([h.watch({ path: root, recursive: false })])
    await m.start()
    await h.waitFor('the top file', () => h.submits.length >= 1)
    await h.waitIdle(m)
    expect(submittedFiles()).toEqual(['top.mkv'])
  })

  it('converts the same content once per profile, across restarts, and again when it changes', async () => {
    const root = path.join(h.dir, 'in')
    const other = path.join(h.dir, 'in-opus')
    await mkdir(other, { recursive: true })
    await put(path.join(root, 'a.mkv'), media('same'))
    await put(path.join(root, 'copy-of-a.mkv'), media('same'))
    await put(path.join(other, 'a.mkv'), media('same'))
    const watches = [h.watch({ path: root }), h.watch({ path: other, profile: 'opus' })]
    const first = h.manager(watches)
    await first.start()
    await h.waitFor('one job per profile', () => h.submits.length >= 2)
    await h.waitIdle(first)
    expect(h.submits.map((s) => s.profile).sort()).toEqual(['h264', 'opus'])
    await first.stop()

    const second = h.manager(watches)
    // Its start-up scan reports every file before start() returns; idle, it has decided them all.
    await second.start()
    await h.waitIdle(second)
    expect(h.submits).toHaveLength(2)
    await writeFile(path.join(root, 'a.mkv'), media('new content'))
    await h.waitFor('the changed file', () => h.submits.length === 3)
    expect(h.submits[2]).toMatchObject({ source: path.join(root, 'a.mkv'), profile: 'h264' })
  })

  it('reports a non-media file once with its reason and does not retry it, even after a restart', async () => {
    const root = path.join(h.dir, 'in')
    const junk = await put(path.join(root, 'junk.mkv'), 'not a video at all')
    const watches = [h.watch({ path: root })]
    const first = h.manager(watches)
    await first.start()
    await h.waitFor('the skip report', () => first.list()[0].skipped.length >= 1)
    expect(first.list()[0].skipped[0]).toMatchObject({ file: junk, code: 'SOURCE_NOT_MEDIA' })
    await first.stop()
    const second = h.manager(watches)
    await second.start()
    expect(second.list()[0].skipped).toEqual([expect.objectContaining({ file: junk, code: 'SOURCE_NOT_MEDIA' })])
    await h.waitIdle(second)
    expect(h.events.filter((e) => e.type === 'watch:skipped')).toHaveLength(1)
    expect(h.submits).toHaveLength(0)
  })

  it('refuses symlinks that lead outside the folder (reported once) and takes those inside', async () => {
    const root = path.join(h.dir, 'in')
    const outside = await put(path.join(h.dir, 'private', 'secret.mkv'), media('secret'))
    const inside = await put(path.join(root, 'real', 'inside.mkv'), media('inside'))
    await symlink(outside, path.join(root, 'escape.mkv'))
    await symlink(inside, path.join(root, 'alias.mkv'))
    const watches = [h.watch({ path: root })]
    const first = h.manager(watches)
    await first.start()
    await h.waitFor('the refusal', () => first.list()[0].skipped.length >= 1)
    await h.waitFor('the inside file', () => h.submits.length >= 1)
    await h.waitIdle(first)
    expect(first.list()[0].skipped[0]).toMatchObject({
      file: path.join(root, 'escape.mkv'),
      code: 'SOURCE_OUTSIDE_WATCH'
    })
    expect(h.submits.map((s) => s.source)).toEqual([inside])
    await first.stop()
    const second = h.manager(watches)
    await second.start()
    await h.waitIdle(second)
    expect(h.events.filter((e) => e.type === 'watch:skipped')).toHaveLength(1)
    expect(h.submits.map((s) => s.source)).toEqual([inside])
  })

  it('submits 50 files dropped at once, each once, hashing at most two at a time', async () => {
    const root = path.join(h.dir, 'in')
    const staging = path.join(h.dir, 'staging')
    await mkdir(root)
    const m = h.manager([h.watch({ path: root })])
    await m.start()
    for (let i = 0; i < 50; i++) await put(path.join(staging, `clip-${i}.mkv`), media(`clip ${i}`))
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await rename(path.join(staging, `clip-${i}.mkv`), path.join(root, `clip-${i}.mkv`))
      })
    )
    await h.waitFor('fifty submissions', () => h.submits.length >= 50, paced(20_000))
    await h.waitIdle(m)
    expect(new Set(h.submits.map((s) => s.source)).size).toBe(50)
    expect(h.submits).toHaveLength(50)
    expect(h.hashing.max).toBeLessThanOrEqual(2)
    expect(m.list()[0].submitted).toHaveLength(50)
  })

  it('loses none and doubles none when restarted in the middle of a drop', async () => {
    const root = path.join(h.dir, 'in')
    for (let i = 0; i < 50; i++) await put(path.join(root, `clip-${i}.mkv`), media(`clip ${i}`))
    const watches = [h.watch({ path: root, settleSeconds: 0.1 })]
    const first = h.manager(watches)
    await first.start()
    await h.waitFor('some submissions', () => h.submits.length >= 5)
    await first.stop()
    const before = h.submits.length
    expect(before).toBeLessThan(50)
    const second = h.manager(watches)
    await second.start()
    await h.waitFor('the rest', () => h.submits.length >= 50, paced(20_000))
    await h.waitIdle(second)
    expect(h.submits).toHaveLength(50)
    expect(new Set(h.submits.map((s) => s.source)).size).toBe(50)
    expect(second.list()[0].submitted).toHaveLength(50)
  })
})
