/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Code passed to page.evaluate runs in the browser: its DOM types.
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HAS_CHROMIUM, NO_CHROMIUM, watchConsole } from '../helpers/browser.js'
import { makeClip } from '../helpers/faults-cluster.js'
import { waitForJob, type TestNode } from '../helpers/in-process.js'
import { waitUntil } from '../helpers/node-harness.js'
import { openDashboard, startUiMesh, stopUiMesh, type UiMesh } from '../helpers/ui-mesh.js'

/**
 * The dashboard in a real Chromium, on a real 3-node mesh (full nodes in this process, libp2p on
 * loopback, real ffmpeg): it shows the nodes, a job submitted from the page progressing live to
 * done and who converted which unit, cancel and retry from the page, pause and resume of this node
 * and of others from the page, and a phone-sized screen.
 */
if (!HAS_CHROMIUM) console.warn(NO_CHROMIUM)

let mesh: UiMesh | undefined
let media: string
let shots: string
let nodes: TestNode[] = []
let url: string

beforeAll(async () => {
  if (!HAS_CHROMIUM) return
  mesh = await startUiMesh('ffm-ui-mesh')
  ;({ media, shots, nodes, url } = mesh)
}, 180_000)

afterAll(async () => { await stopUiMesh(mesh) })

/** The page's view of one job row or page: its state and progress value. */
async function shown (page: Page, selector: string): Promise<{ state: string | null, progress: number }> {
  return await page
    .locator(selector)
    .first()
    .evaluate(el => ({
      state: el.getAttribute('data-state'),
      progress: (el.querySelector('progress') as HTMLProgressElement | null)?.value ?? -1
    }))
}

describe.skipIf(!HAS_CHROMIUM)('the dashboard on a 3-node mesh', () => {
  it('shows the nodes, and a job submitted from the page progressing live to done, with who converted which unit', async () => {
    const [a] = nodes as [TestNode]
    const page = await (mesh as UiMesh).browser.newPage({ viewport: { width: 1200, height: 900 } })
    const problems = watchConsole(page)
    await page.goto(url)
    await page.locator('article.node').nth(2).waitFor()
    expect(await page.locator('article.node h3').allTextContents()).toEqual(['node-a', 'node-b', 'node-c'])
    expect(await page.locator('.connection').getAttribute('data-state')).toBe('live')
    await page.screenshot({ path: path.join(shots, 'mesh.png'), fullPage: true })

    const source = await makeClip(media, 'live.mp4', 8)
    await page.click('a.tab[href="#/jobs"]')
    await page.click('details.submit summary')
    await page.fill('input[name=source]', source)
    await page.selectOption('select[name=profile]', 'slow264')
    await page.fill('input[name=outDir]', path.join(media, 'out'))
    await page.click('form.submit-form button[type=submit]')
    const id = (await page.locator('.form-result a').textContent({ timeout: 30_000 })) as string
    expect(a.node.api.getJob(id).source).toBe(source)

    // Live: the jobs list is not polled, so every change below reaches the page by its event stream.
    const row = `li.job[data-id="${id}"]`
    const seen: Array<{ state: string | null; progress: number }> = []
    await waitUntil(
      async () => {
        const now = await shown(page, row)
        if (seen.at(-1)?.progress !== now.progress || seen.at(-1)?.state !== now.state) seen.push(now)
        return now.state === 'done' ? now : null
      },
      `job ${id} to show done`,
      240_000
    )
    const between = seen.filter(s => s.progress > 0 && s.progress < 1)
    expect(between.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(2)
    expect(seen.at(-1)).toEqual({ state: 'done', progress: 1 })
    await page.screenshot({ path: path.join(shots, 'jobs.png'), fullPage: true })

    await page.click(`${row} a.job-name`)
    await page.locator('.timeline-row').first().waitFor()
    const job = a.node.api.getJob(id)
    const names = new Map(nodes.map(n => [n.node.peerId, n.node.api.info().name]))
    const workers = [...new Set(job.units.map(u => names.get(u.worker as string)))].sort()
    expect(workers.length).toBeGreaterThanOrEqual(2)
    // A timeline row per node that had a unit, and each unit's node named in the table.
    expect((await page.locator('.timeline-row .node-name').allTextContents()).sort()).toEqual(
      expect.arrayContaining(workers)
    )
    const table = await page
      .locator('.units tbody tr')
      .evaluateAll(rows => rows.map(r => [...r.children].map(c => c.textContent)))
    expect(table.map(r => [Number(r[0]), r[3]])).toEqual(job.units.map(u => [u.index, names.get(u.worker as string)]))
    expect(await page.locator('.timeline .bar.verified').count()).toBeGreaterThanOrEqual(job.units.length)
    await page.screenshot({ path: path.join(shots, 'job.png'), fullPage: true })
    expect(problems).toEqual([])
    await page.close()
  }, 300_000)

  it('cancels a running job and retries it from the page; the retried job ends done', async () => {
    const [a] = nodes as [TestNode]
    const source = await makeClip(media, 'cancel.mp4', 8, '320x240', 1)
    const { id } = await a.node.api.submit({ source, profile: 'slow264', outDir: path.join(media, 'out') })
    const page = await (mesh as UiMesh).browser.newPage({ viewport: { width: 1200, height: 900 } })
    const problems = watchConsole(page)
    await page.goto(`${url}#/jobs/${id}`)
    await waitUntil(
      async () => a.node.api.getJob(id).units.some(u => u.state === 'converting'),
      'a unit to convert',
      120_000
    )
    await page.click('.job-page button.act-cancel')
    await page.locator('.job-page[data-state="cancelled"]').waitFor({ timeout: 30_000 })
    expect(a.node.api.getJob(id).state).toBe('cancelled')
    await page.screenshot({ path: path.join(shots, 'cancelled.png'), fullPage: true })
    await page.click('.job-page button.act-retry')
    await page.locator('.job-page[data-state="running"]').waitFor({ timeout: 30_000 })
    expect((await waitForJob(a, id)).state).toBe('done')
    await page.locator('.job-page[data-state="done"]').waitFor({ timeout: 30_000 })
    expect(problems).toEqual([])
    await page.close()
  }, 300_000)

  it('pauses and resumes nodes from the page: a paused node is granted no unit, a resumed one is again', async () => {
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode]
    const page = await openDashboard(mesh as UiMesh)
    const problems = watchConsole(page)
    const card = (name: string): string => `article.node[data-name="${name}"]`
    /** Which nodes were granted units of a job (the owner, node-a, logs every grant). */
    const leasedTo = (id: string): Set<string> =>
      new Set(a.events.filter(e => e.type === 'unit:leased' && e.jobId === id).map(e => e.peerId as string))
    /** Waits for a card's paused badge to show or go; a timeout names what the card and node-a say. */
    const badge = async (name: string, state: 'visible' | 'detached'): Promise<void> => {
      try {
        await page.locator(`${card(name)} .badge.paused`).waitFor({ state, timeout: 30_000 })
      } catch (err) {
        const said = await page.locator(`${card(name)} .action-error`).textContent()
        const seen = (await a.node.api.meshNodes()).map(n => ({ name: n.name, online: n.online, paused: n.paused }))
        throw new Error(
          `${name}'s paused badge is not ${state} after 30 s; its card says "${said ?? ''}"; ` +
            `node-a lists ${JSON.stringify(seen)}`,
          { cause: err }
        )
      }
    }
    const submit = async (name: string, variant: number): Promise<string> => {
      const source = await makeClip(media, name, 6, '320x240', variant)
      return (await a.node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'out') })).id
    }

    // This node, through its own route: its own job runs on the others only.
    await page.click(`${card('node-a')} button.act-pause`)
    await badge('node-a', 'visible')
    const whilePaused = await submit('paused.mp4', 2)
    expect((await waitForJob(a, whilePaused)).state).toBe('done')
    const pausedLeases = leasedTo(whilePaused)
    expect(pausedLeases.size).toBeGreaterThan(0)
    expect(pausedLeases.has(a.node.peerId)).toBe(false)
    await page.screenshot({ path: path.join(shots, 'paused.png'), fullPage: true })
    await page.click(`${card('node-a')} button.act-resume`)
    await badge('node-a', 'detached')

    // The other two, through the mesh: now node-a is the only node granted units, so it takes them again.
    for (const name of ['node-b', 'node-c']) {
      await page.click(`${card(name)} button.act-pause`)
      await badge(name, 'visible')
    }
    const othersPaused = await submit('resumed.mp4', 3)
    expect((await waitForJob(a, othersPaused)).state).toBe('done')
    expect([...leasedTo(othersPaused)]).toEqual([a.node.peerId])
    for (const name of ['node-b', 'node-c']) {
      await page.click(`${card(name)} button.act-resume`)
      await badge(name, 'detached')
    }
    for (const n of [b, c]) expect((await n.node.api.meshNodes())[0]).toMatchObject({ self: true, paused: false })
    expect(problems).toEqual([])
    await page.close()
  }, 400_000)

  it('is readable on a phone: nothing wider than the screen', async () => {
    const page = await (mesh as UiMesh).browser.newPage({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true
    })
    for (const [hash, name] of [
      ['#/', 'phone-mesh'],
      ['#/jobs', 'phone-jobs'],
      ['#/folders', 'phone-folders'],
      ['#/stats', 'phone-stats']
    ] as const) {
      await page.goto(`${url}${hash}`)
      await page.locator('main .page').waitFor()
      await page.waitForFunction(() => document.querySelector('.connection')?.getAttribute('data-state') === 'live')
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      expect(overflow, name).toBeLessThanOrEqual(0)
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true })
    }
    await page.close()
  }, 120_000)
})
