import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HAS_CHROMIUM, NO_CHROMIUM, watchConsole } from '../helpers/browser.js'
import { makeClip } from '../helpers/faults-cluster.js'
import { waitForJob } from '../helpers/in-process.js'
import { waitUntil } from '../helpers/node-harness.js'
import { openDashboard, startUiMesh, stopUiMesh, type UiMesh } from '../helpers/ui-mesh.js'

/**
 * A done job past jobs.doneUnitsRetentionSeconds on the dashboard, in a real Chromium on a real
 * 3-node mesh: its page says its units were let go, its row has no "units 0/0", and the
 * statistics still count its units per node.
 */
if (!HAS_CHROMIUM) console.warn(NO_CHROMIUM)

const RETENTION_SECONDS = 3
let mesh: UiMesh | undefined

beforeAll(async () => {
  if (!HAS_CHROMIUM) return
  mesh = await startUiMesh('ffm-web-done-units', { jobs: { doneUnitsRetentionSeconds: RETENTION_SECONDS } })
}, 180_000)
afterAll(async () => { await stopUiMesh(mesh) })

describe.skipIf(!HAS_CHROMIUM)('a done job whose units were let go, on the dashboard', () => {
  it('says so on its page and leaves the unit count out of its row', async () => {
    const m = mesh as UiMesh
    const [a] = m.nodes
    const source = await makeClip(m.media, 'kept.mp4', 6)
    const { id } = await a.node.api.submit({ source, profile: 'h264', outDir: path.join(m.media, 'out') })
    expect((await waitForJob(a, id)).state).toBe('done')
    const converted = a.node.api.stats().byNode.reduce((n, node) => n + node.units, 0)
    expect(converted).toBeGreaterThan(1)
    await waitUntil(() => Promise.resolve(a.node.api.getJob(id).units.length === 0), 'the units let go')

    const page = await openDashboard(m, `#/jobs/${id}`)
    const problems = watchConsole(page)
    const units = page.locator('.job-page .facts dt:text-is("units") + dd')
    await units.waitFor({ timeout: 30_000 })
    expect(await units.textContent()).toContain('let go after jobs.doneUnitsRetentionSeconds')
    await page.screenshot({ path: path.join(m.shots, 'done-units-let-go.png'), fullPage: true })
    await page.goto(`${m.url}#/jobs`)
    const row = page.locator('li.job', { hasText: 'kept.mp4' })
    await row.waitFor({ timeout: 30_000 })
    expect(await row.textContent()).not.toContain('units 0/0')
    expect(a.node.api.stats().byNode.reduce((n, node) => n + node.units, 0)).toBe(converted)
    expect(problems).toEqual([])
    await page.close()
  }, 300_000)
})
