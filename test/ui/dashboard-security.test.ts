/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Code passed to page.evaluate runs in the browser: its DOM types.
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dashboardFromLog, HAS_CHROMIUM, launchBrowser, NO_CHROMIUM, screenshotDir } from '../helpers/browser.js'
import { LOGIN_BURST_PER_ADDRESS } from '../../packages/node/src/ui/auth.js'
import {
  FFMESH_BIN,
  ffmeshJson,
  makeDataDir,
  startNodeProcess,
  waitUntil,
  type NodeProcess
} from '../helpers/node-harness.js'

/**
 * The dashboard opened to the LAN (`ui.listen: 0.0.0.0:0`, a password set with `ffmesh ui
 * password`), attacked from a real Chromium: every request here goes to 127.0.0.1.
 */
if (!HAS_CHROMIUM) console.warn(NO_CHROMIUM)

const PASSWORD = 'a long test password'
let dataDir: string
let node: NodeProcess
let url: string
let browser: Browser
let shots: string
let evil: Server
/** Signed in before the rate-limit test spends this address's sign-in attempts. */
let trusted: BrowserContext

/** `ffmesh ui password` with the password on stdin, as a script would set it. */
async function setPassword (dir: string, password: string): Promise<{ code: number, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [FFMESH_BIN, 'ui', 'password', '--data-dir', dir], {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdin.end(`${password}\n`)
  const code = await new Promise<number>(resolve => child.on('close', c => resolve(c ?? 1)))
  return { code, stdout, stderr }
}

beforeAll(async () => {
  if (!HAS_CHROMIUM) return
  shots = await screenshotDir('security')
  dataDir = await makeDataDir({ ui: { enabled: true, listen: '0.0.0.0:0' }, extra: { log: { level: 'debug' } } })
  expect((await setPassword(dataDir, 'short')).stderr).toContain('BAD_ARGUMENTS')
  const set = await setPassword(dataDir, PASSWORD)
  expect(set.code, set.stderr).toBe(0)
  expect((await fs.stat(path.join(dataDir, 'ui-password'))).mode & 0o777).toBe(0o600)
  node = await startNodeProcess(dataDir)
  url = dashboardFromLog(node.log())
  browser = await launchBrowser()
  // Another web site: a page on another port of this machine, with a script that acts on the dashboard.
  evil = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(`<!doctype html><script>
      const target = ${JSON.stringify(url)};
      const body = JSON.stringify({ path: '/', profile: 'h264', output: '/tmp' });
      Promise.allSettled([
        fetch(target + 'v1/watches', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body }),
        fetch(target + 'v1/watches', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body })
      ]).then(() => { document.title = 'sent' });
    </script>`)
  })
  await new Promise<void>(resolve => evil.listen(0, '127.0.0.1', resolve))
  trusted = await browser.newContext()
  await signedIn(trusted)
}, 120_000)

afterAll(async () => {
  await browser?.close()
  evil?.close()
  await node?.stop()
})

/** Signs a browser context in through the page's form. */
async function signedIn (context: BrowserContext): Promise<void> {
  const page = await context.newPage()
  await page.goto(url)
  await page.fill('input[name=password]', PASSWORD)
  await page.click('form.login button[type=submit]')
  await page.locator('article.node').first().waitFor()
  await page.close()
}

describe.skipIf(!HAS_CHROMIUM)('the dashboard open to the LAN', () => {
  it('refuses a page without sign-in, and a wrong password, and then any password for a while', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(url)
    await page.locator('form.login').waitFor()
    expect(await page.locator('article.node, li.job').count()).toBe(0)
    const direct = await page.evaluate(async () => {
      const r = await fetch('/v1/jobs')
      return { status: r.status, body: (await r.json()) as { error: { code: string } } }
    })
    expect(direct).toMatchObject({ status: 401, body: { error: { code: 'UI_LOGIN_REQUIRED' } } })
    await page.screenshot({ path: path.join(shots, 'login.png') })

    const attempt = async (password: string): Promise<string> => {
      await page.evaluate(() => { document.querySelector('.form-result')?.replaceChildren() })
      await page.fill('input[name=password]', password)
      await page.click('form.login button[type=submit]')
      return await page.locator('.form-result .error').getAttribute('data-code') as string
    }
    const codes: string[] = []
    for (let i = 0; i < 8 && !codes.includes('UI_LOGIN_RATE_LIMITED'); i++) codes.push(await attempt(`wrong ${i}`))
    // Every attempt from an address counts, the sign-in before this test's too (it is 127.0.0.1 as well).
    const refused = codes.indexOf('UI_LOGIN_RATE_LIMITED')
    expect(refused, codes.join(' ')).toBeGreaterThanOrEqual(LOGIN_BURST_PER_ADDRESS - 1)
    expect(codes.slice(0, refused).every(c => c === 'UI_LOGIN_FAILED'), codes.join(' ')).toBe(true)
    // The right password is refused too until the limit lets another attempt through.
    expect(await attempt(PASSWORD)).toBe('UI_LOGIN_RATE_LIMITED')
    await page.screenshot({ path: path.join(shots, 'rate-limited.png') })
    expect(await page.locator('article.node').count()).toBe(0)
    await context.close()
  }, 120_000)

  it('refuses an action without the CSRF token, and any request from another origin', async () => {
    const context = trusted
    const page = await context.newPage()
    await page.goto(url)
    await page.locator('article.node').first().waitFor()
    const withoutToken = await page.evaluate(async () => {
      const r = await fetch('/v1/watches', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path: '/', profile: 'h264', output: '/tmp' })
      })
      return { status: r.status, body: await r.json() as { error: { code: string } } }
    })
    expect(withoutToken).toMatchObject({ status: 403, body: { error: { code: 'UI_CSRF_REFUSED' } } })

    // The other site's page runs in the signed-in browser; its requests carry the cookie (same
    // site: only the port differs), so only the Origin check stands between it and the node.
    const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`
    const attack = await context.newPage()
    await attack.goto(evilUrl)
    await attack.waitForFunction(() => document.title === 'sent')
    await waitUntil(
      async () => (node.log().includes('"code":"UI_ORIGIN_REFUSED"') ? true : null),
      'the node to log the refusal',
      30_000
    )
    expect(await ffmeshJson<unknown[]>(['watch', 'list'], { dataDir })).toEqual([])

    // The same request with the session's cookie and token, from a script that sets a foreign Origin.
    const session = await page.evaluate(async () => (await (await fetch('/ui/session')).json()) as { csrf: string })
    const cookies = await context.cookies(url)
    const forged = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(url)
      const req = request(
        {
          host: hostname,
          port,
          method: 'POST',
          path: '/v1/watches',
          headers: {
            'content-type': 'application/json',
            origin: evilUrl.slice(0, -1),
            cookie: cookies.map(c => `${c.name}=${c.value}`).join('; '),
            'x-ffmesh-csrf': session.csrf
          }
        },
        async res => {
          let body = ''
          for await (const c of res) body += String(c)
          resolve({ status: res.statusCode ?? 0, body })
        }
      )
      req.on('error', reject)
      req.end(JSON.stringify({ path: '/', profile: 'h264', output: '/tmp' }))
    })
    expect(forged.status).toBe(403)
    expect(JSON.parse(forged.body)).toEqual({ error: { code: 'UI_ORIGIN_REFUSED', message: expect.any(String) } })
    expect(await ffmeshJson<unknown[]>(['watch', 'list'], { dataDir })).toEqual([])

    // Nothing secret in the node's log, at debug level: not the password, not the session, not the token.
    for (const secret of [PASSWORD, session.csrf, ...cookies.map(c => c.value)]) {
      expect(node.log().includes(secret), 'a secret in the log').toBe(false)
    }
    expect(cookies.every(c => c.httpOnly && c.sameSite === 'Strict')).toBe(true)
  }, 120_000)
})

afterAll(async () => {
  if (dataDir != null) await fs.rm(dataDir, { recursive: true, force: true }).catch(() => {})
})
