import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { REPO } from './node-harness.js'

/**
 * A real Chromium for the dashboard tests: Debian's package (.ci/run installs it), driven by
 * playwright-core. Playwright's own browser downloads are not used.
 */
export const CHROMIUM = process.env.FFMESH_CHROMIUM ?? '/usr/bin/chromium'
export const HAS_CHROMIUM = existsSync(CHROMIUM)
export const NO_CHROMIUM = `no chromium at ${CHROMIUM} (apt-get install chromium, or set FFMESH_CHROMIUM): the browser tests are skipped`

/**
 * Headless, and quiet on the network: without the background flags Chromium tries update,
 * sync and component servers, which a closed network refuses over and over. As root it needs
 * --no-sandbox. Playwright gives each launch a fresh profile (user data dir) and removes it.
 */
const ARGS = [
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--no-default-browser-check'
]

export async function launchBrowser (): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [...ARGS, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])]
  })
}

/** Where screenshots go: a folder in the checkout that git ignores, printed so a person finds it. */
export async function screenshotDir (name: string): Promise<string> {
  const dir = process.env.FFMESH_UI_SCREENSHOTS ?? path.join(REPO, 'tmp', 'ui-screenshots', name)
  await fs.rm(dir, { recursive: true, force: true })
  await fs.mkdir(dir, { recursive: true })
  console.log(`dashboard screenshots: ${dir}`)
  return dir
}

/**
 * Collects what the page complains about: script errors, failed requests the page did not expect,
 * and Content-Security-Policy violations (Chromium reports them as console errors).
 */
export function watchConsole (page: Page): string[] {
  const problems: string[] = []
  page.on('pageerror', err => { problems.push(`page error: ${err.message}`) })
  page.on('console', msg => {
    if (
      msg.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())
    ) {
      problems.push(`console: ${msg.text()}`)
    }
  })
  return problems
}

/** The dashboard URL in `ffmesh node`'s ready line. */
export function dashboardFromLog (log: string): string {
  const url = /dashboard (http:\/\/\S+)/.exec(log)?.[1]
  if (url == null) throw new Error(`the node printed no dashboard address:\n${log.slice(-2000)}`)
  return url
}
