/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Code passed to page.evaluate runs in the browser: its DOM types.
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isFfmeshError, ScanBodySchema } from '@ffmesh/protocol'
import { formatBytes } from '../../packages/web/src/format.js'
import { HAS_CHROMIUM, NO_CHROMIUM, watchConsole } from '../helpers/browser.js'
import { makeVideo } from '../helpers/library-tree.js'
import { waitUntil } from '../helpers/node-harness.js'
import { openDashboard, startUiMesh, stopUiMesh, type UiMesh } from '../helpers/ui-mesh.js'

/** Jobs the dashboard lists at once (MESH_JOBS_LIMIT in packages/web/src/store.ts). */
const LISTED = 1000

/**
 * Libraries, skipped files, statistics and removing a job, from the dashboard in a real Chromium
 * on a real 3-node mesh: a library added from the page with one file to convert and one already
 * in the target codec.
 */
if (!HAS_CHROMIUM) console.warn(NO_CHROMIUM)

let mesh: UiMesh | undefined
let lib: string
let out: string
/** The job that converted Film.mkv, once the first test saw it done. */
let doneId: string | undefined

beforeAll(async () => {
  if (!HAS_CHROMIUM) return
  mesh = await startUiMesh('ffm-web2-library')
  lib = path.join(mesh.media, 'library')
  out = path.join(mesh.media, 'converted')
  // Near-lossless H.264, which h265 makes smaller; and a file already HEVC in Matroska.
  await makeVideo(path.join(lib, 'Film.mkv'), { tone: 300, seconds: 4 })
  await makeVideo(path.join(lib, 'Clip.mkv'), { codec: 'libx265', crf: 30 })
}, 180_000)

afterAll(async () => { await stopUiMesh(mesh) })

/** The text of a fact (`<dt>name</dt><dd>value</dd>`) on a job's page. */
const FACT = (name: string): string => `.job-page .facts dt:text-is("${name}") + dd`

describe.skipIf(!HAS_CHROMIUM)('libraries, skipped files and statistics on the dashboard', () => {
  it('adds a library from the page: the skipped file shows ALREADY_TARGET with its advice, the converted one its bytes, stats a chart', async () => {
    const m = mesh as UiMesh
    const [a] = m.nodes
    const page = await openDashboard(m, '#/folders')
    const problems = watchConsole(page)
    await page.click('.libraries-section details.submit summary')
    await page.fill('input[name=library-path]', lib)
    await page.selectOption('select[name=profile-video]', 'h265')
    await page.fill('input[name=library-output]', out)
    await page.click('.library-form button[type=submit]')
    const card = `li.library[data-path="${lib}"]`
    await page.locator(card).waitFor({ timeout: 30_000 })
    expect(a.node.api.libraries().map(l => [l.path, l.profiles.video, l.output])).toEqual([[lib, 'h265', out]])
    expect(await page.locator(`${card} .meta`).textContent()).toContain(`video → h265 · into ${out}`)

    // Skipped: its reason's code and the advice of docs/errors.md, like an error's.
    await page.click('a.tab[href="#/jobs"]')
    await page.selectOption('select[name=state]', 'skipped')
    const skipped = 'li.job[data-state="skipped"] .skipped[data-code="ALREADY_TARGET"]'
    await page.locator(skipped).waitFor({ timeout: 120_000 })
    expect(await page.locator('li.job[data-state="skipped"] .job-name').allTextContents()).toEqual(['Clip.mkv'])
    expect(await page.locator(`${skipped} .advice`).textContent()).toContain('Converting it again would lose quality')
    await page.screenshot({ path: path.join(m.shots, 'skipped.png'), fullPage: true })

    // Converted: its source, output and saved bytes on its page.
    await page.selectOption('select[name=state]', 'done')
    const done = page.locator('li.job[data-state="done"]')
    await done.waitFor({ timeout: 300_000 })
    doneId = (await done.getAttribute('data-id')) as string
    const job = a.node.api.getJob(doneId)
    expect(job.source).toBe(path.join(lib, 'Film.mkv'))
    const [bytesIn, bytesOut] = [job.bytesIn as number, job.bytesOut as number]
    expect(bytesOut).toBeGreaterThan(0)
    expect(bytesOut).toBeLessThan(bytesIn)
    await done.locator('a.job-name').click()
    await page.locator(FACT('saved')).waitFor()
    expect([
      await page.locator(FACT('source size')).textContent(),
      await page.locator(FACT('output size')).textContent(),
      await page.locator(FACT('saved')).textContent()
    ]).toEqual([
      formatBytes(bytesIn),
      formatBytes(bytesOut),
      `${formatBytes(bytesIn - bytesOut)} (${Math.round(((bytesIn - bytesOut) / bytesIn) * 100)}%)`
    ])

    // Statistics: the counts of `ffmesh stats`, and today's bar in the chart of bytes saved.
    await page.click('a.tab[href="#/stats"]')
    const total = (row: string): string => `.stats-totals tr[data-row="${row}"] td >> nth=0`
    await page.locator(total('converted')).waitFor()
    const stats = a.node.api.stats()
    expect(stats).toMatchObject({ converted: 1, skipped: 1, skippedByReason: { ALREADY_TARGET: 1 } })
    expect(await page.locator(total('converted')).textContent()).toBe('1')
    expect(await page.locator(total('skipped: ALREADY_TARGET')).textContent()).toBe('1')
    expect(await page.locator(total('bytes saved')).textContent()).toBe(formatBytes(stats.bytesSaved))
    const today = stats.byDay.at(-1)?.day as string
    expect(await page.locator('svg.chart g.day').count()).toBe(stats.byDay.length)
    const bar = page.locator(`svg.chart rect.bar[data-day="${today}"]`)
    expect(Number(await bar.getAttribute('height'))).toBeGreaterThan(0)
    expect(await page.locator('svg.chart rect.bar').count()).toBe(1)
    await page.screenshot({ path: path.join(m.shots, 'stats.png'), fullPage: true })

    // Scan now: the library's settings as a one-shot scan; both files are known and unchanged.
    await page.click('a.tab[href="#/folders"]')
    await page.click(`${card} button.act-scan`)
    await page.locator(`${card} .scan-result`).waitFor({ timeout: 60_000 })
    expect(await page.locator(`${card} .scan-result`).textContent()).toBe(
      'Scanned now: 2 found, 0 queued, 2 skipped, 0 failed'
    )
    await page.screenshot({ path: path.join(m.shots, 'folders.png'), fullPage: true })
    await page.click(`${card} button.act-remove`)
    await page.locator(card).waitFor({ state: 'detached', timeout: 30_000 })
    expect(a.node.api.libraries()).toEqual([])
    expect(problems).toEqual([])
    await page.close()
  }, 600_000)

  it('removes a finished job from the page: its row goes, and the node answers JOB_NOT_FOUND for it', async () => {
    const m = mesh as UiMesh
    const [a] = m.nodes
    const id = doneId as string
    const page = await openDashboard(m, '#/jobs')
    const problems = watchConsole(page)
    const row = page.locator(`li.job[data-id="${id}"]`)
    await row.waitFor()
    const remove = row.locator('button.act-remove')
    await remove.click()
    expect(await remove.textContent()).toBe('Remove for good?')
    await remove.click()
    await row.waitFor({ state: 'detached', timeout: 30_000 })
    const code = (() => {
      try {
        a.node.api.getJob(id)
      } catch (err) {
        return isFfmeshError(err) ? err.code : String(err)
      }
      return 'still there'
    })()
    expect(code).toBe('JOB_NOT_FOUND')
    const answer = await page.evaluate(async (jobId) => {
      const res = await fetch(`/v1/jobs/${encodeURIComponent(jobId)}`, { headers: { accept: 'application/json' } })
      return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code }
    }, id)
    expect(answer).toEqual({ status: 404, code: 'JOB_NOT_FOUND' })
    // The skipped job stays: only the one removed left.
    expect(await page.locator('li.job[data-state="skipped"]').count()).toBe(1)
    expect(problems).toEqual([])
    await page.close()
  }, 120_000)

  it('a library larger than the page\'s listing: the counts are the mesh\'s, a state lists its old jobs, an old job\'s page stays', async () => {
    const m = mesh as UiMesh
    const [a] = m.nodes
    // The oldest job: cancelled before any of the thousand below.
    const film = path.join(lib, 'Film.mkv')
    const { id: cancelled } = await a.node.api.submit({ source: film, profile: 'h265', outDir: path.join(m.media, 'old') })
    await a.node.api.cancel(cancelled)
    // A thousand files too small to be worth it (one more than the page lists): each a skipped job.
    const small = path.join(m.media, 'small')
    await fs.mkdir(small, { recursive: true })
    for (let i = 0; i < LISTED + 1; i++) await fs.writeFile(path.join(small, `clip-${i}.mp4`), Buffer.alloc(1000))
    const { batch } = await a.node.api.scan(
      ScanBodySchema.parse({ path: small, profiles: { video: 'h265' }, output: path.join(m.media, 'small-out'), rules: { minSize: 5000 } })
    )
    await waitUntil(
      async () => a.node.api.jobSummary(batch).byState.skipped === LISTED + 1,
      'the small files to be skipped',
      60_000
    )
    const counts = await a.node.api.meshJobCounts()

    const page = await openDashboard(m, '#/jobs')
    const problems = watchConsole(page)
    const all = page.locator('select[name=state] option[value=""]')
    await page.waitForFunction(
      (text) => document.querySelector('select[name=state] option[value=""]')?.textContent === text,
      `all states (${counts.total})`
    )
    expect(await all.textContent()).toBe(`all states (${counts.total})`)
    expect(await page.locator('select[name=state] option[value="skipped"]').textContent()).toBe(`skipped (${counts.byState.skipped})`)
    expect(await page.locator('.jobs-page .summary').textContent()).toBe(`the newest ${LISTED} of ${counts.total} jobs of every node in the mesh`)

    // Older than the newest thousand, and still listed in its state.
    await page.selectOption('select[name=state]', 'cancelled')
    const row = page.locator(`li.job[data-id="${cancelled}"]`)
    await row.waitFor({ timeout: 30_000 })
    await row.locator('a.job-name').click()
    await page.locator(`.job-page[data-id="${cancelled}"]`).waitFor()
    await page.locator(FACT('job')).waitFor()
    // Two listings later (the page reads one every few seconds), the page still shows the job.
    for (let i = 0; i < 2; i++) await page.waitForResponse(r => r.url().includes('/v1/mesh/jobs?'), { timeout: 30_000 })
    expect(await page.locator('.job-page > p.empty').isHidden()).toBe(true)
    expect(await page.locator(FACT('job')).isVisible()).toBe(true)
    expect(await page.locator(FACT('job')).textContent()).toBe(cancelled)
    expect(problems).toEqual([])
    await page.close()
  }, 180_000)
})
