/// <reference lib="dom" />
// Code passed to page.waitForFunction runs in the browser: its DOM types.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, screenshotDir } from './browser.js'
import { SLOW_PROFILE } from './faults-cluster.js'
import { startTestNodes, stopTestNodes, waitForMesh, type TestNode } from './in-process.js'

/**
 * A real 3-node mesh for the dashboard's browser tests: full nodes in this process (libp2p on
 * loopback, real LevelDB and ffmpeg), node-a serving the dashboard on a free port, and Chromium.
 * Media, data dirs and screenshots carry the test's `prefix`.
 */
export interface UiMesh {
  nodes: [TestNode, TestNode, TestNode]
  url: string
  browser: Browser
  /** A temp folder for the test's media (the nodes' data dirs are in it too). */
  media: string
  shots: string
}

export async function startUiMesh (prefix: string, extra: Record<string, unknown> = {}): Promise<UiMesh> {
  const media = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`))
  const shots = await screenshotDir(prefix)
  const shared = { profiles: [SLOW_PROFILE], ...extra }
  const nodes = await startTestNodes(['node-a', 'node-b', 'node-c'].map((name, i) => ({
    name,
    slots: 1,
    dir: path.join(media, name),
    extra: shared,
    ...(i === 0 ? { ui: { listen: '127.0.0.1:0' } } : {})
  }))) as UiMesh['nodes']
  await waitForMesh(nodes)
  const url = nodes[0].node.api.info().dashboard as string
  return { nodes, url, browser: await launchBrowser(), media, shots }
}

export async function stopUiMesh (mesh: UiMesh | undefined): Promise<void> {
  if (mesh == null) return
  await mesh.browser.close()
  await stopTestNodes(mesh.nodes)
  await fs.rm(mesh.media, { recursive: true, force: true })
}

/** A desktop-sized page of the dashboard at `hash`, its event stream live. */
export async function openDashboard (mesh: UiMesh, hash = '#/'): Promise<Page> {
  const page = await mesh.browser.newPage({ viewport: { width: 1200, height: 900 } })
  await page.goto(`${mesh.url}${hash}`)
  await page.waitForFunction(() => document.querySelector('.connection')?.getAttribute('data-state') === 'live')
  return page
}
