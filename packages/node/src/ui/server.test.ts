import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer, request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createFakeNodeApi, type FakeNodeApi } from '../../../../test/helpers/fake-node-api.js'
import { setUiPassword } from './password-file.js'
import { createUiServer, type UiServer } from './server.js'

interface Reply { status: number, headers: IncomingMessage['headers'], text: string, json: unknown }

function call (
  url: string,
  method: string,
  pathname: string,
  init: { headers?: Record<string, string>; body?: unknown } = {}
): Promise<Reply> {
  const { hostname, port } = new URL(url)
  const payload = init.body === undefined ? undefined : JSON.stringify(init.body)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method,
        path: pathname,
        headers: { ...(payload != null ? { 'content-type': 'application/json' } : {}), ...init.headers }
      },
      async res => {
        const chunks: Buffer[] = []
        for await (const c of res) chunks.push(c as Buffer)
        const text = Buffer.concat(chunks).toString()
        let json: unknown = null
        try {
          json = JSON.parse(text)
        } catch {
          json = null
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      }
    )
    req.on('error', reject)
    req.end(payload)
  })
}

const codeOf = (r: Reply): string | undefined => (r.json as { error?: { code: string } } | null)?.error?.code
const cookieOf = (r: Reply): string => String(r.headers['set-cookie']?.[0] ?? '').split(';')[0] as string

let dir: string
let assetsDir: string
let source: string
const servers: UiServer[] = []
const logs: string[] = []
const logger = pino({ level: 'trace' }, { write: (line: string) => { logs.push(line) } })

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ffm-ui-server-'))
  assetsDir = path.join(dir, 'assets')
  await mkdir(assetsDir)
  await writeFile(path.join(assetsDir, 'main.js'), `import './views/x.js'\n${'// padding for gzip\n'.repeat(100)}`)
  await mkdir(path.join(assetsDir, 'views'))
  await writeFile(path.join(assetsDir, 'views', 'x.js'), 'export {}\n')
  await writeFile(path.join(assetsDir, 'app.css'), 'body{}\n')
  await writeFile(path.join(assetsDir, 'error-advice.json'), '{}')
  source = path.join(dir, 'in.mkv')
  await writeFile(source, 'x')
})
afterEach(async () => {
  await Promise.all(servers.map(s => s.stop()))
  servers.length = 0
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

async function start (
  api: FakeNodeApi,
  init: { listen?: string; passwordFile?: string; assets?: string; sweepMs?: number } = {}
): Promise<UiServer> {
  const server = createUiServer(
    { api, logger },
    {
      listen: init.listen ?? '127.0.0.1:0',
      passwordFile: init.passwordFile ?? path.join(dir, 'no-password'),
      assetsDir: init.assets ?? assetsDir,
      sweepMs: init.sweepMs
    }
  )
  servers.push(server)
  await server.start()
  return server
}

describe('the dashboard server without a password, on loopback', () => {
  it('serves the page with a strict CSP and no inline script or style, and assets cached for good', async () => {
    const url = (await start(createFakeNodeApi())).url() as string
    const page = await call(url, 'GET', '/')
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/)
    expect(page.headers['content-security-policy']).not.toContain('unsafe')
    expect(page.headers['x-frame-options']).toBe('DENY')
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|style=|<style/)
    const main = /src="(\/assets\/[\w-]+\/main\.js)"/.exec(page.text)?.[1] as string
    const asset = await call(url, 'GET', main, { headers: { 'accept-encoding': 'gzip' } })
    expect(asset.status).toBe(200)
    expect(asset.headers['cache-control']).toContain('immutable')
    expect(asset.headers['content-encoding']).toBe('gzip')
    expect((await call(url, 'GET', main.replace('main.js', 'views/x.js'))).status).toBe(200)
    expect((await call(url, 'GET', main, { headers: { 'if-none-match': String(asset.headers.etag) } })).status).toBe(
      304
    )
    for (const p of [
      main.replace('main.js', '../../etc/passwd'),
      main.replace('main.js', 'types/x.d.ts'),
      '/assets/other/main.js',
      '/nope'
    ])
      expect((await call(url, 'GET', p)).status, p).toBe(404)
  })

  it('gives a page a session and CSRF token; API calls need the session, and actions the token', async () => {
    const api = createFakeNodeApi()
    const url = (await start(api)).url() as string
    expect(codeOf(await call(url, 'GET', '/v1/jobs'))).toBe('UI_LOGIN_REQUIRED')
    const session = await call(url, 'GET', '/ui/session')
    const body = session.json as { signedIn: boolean, csrf: string }
    expect(body).toMatchObject({ signedIn: true, passwordSet: false })
    expect(session.headers['set-cookie']?.[0]).toMatch(/^ffmesh_session_\d+=[\w-]+; Path=\/; HttpOnly; SameSite=Strict/)
    const cookie = cookieOf(session)
    expect((await call(url, 'GET', '/v1/jobs', { headers: { cookie } })).json).toEqual([])
    const submit = { source, profile: 'h264' }
    expect(codeOf(await call(url, 'POST', '/v1/jobs', { headers: { cookie }, body: submit }))).toBe('UI_CSRF_REFUSED')
    expect(
      codeOf(await call(url, 'POST', '/v1/jobs', { headers: { cookie, 'x-ffmesh-csrf': 'guess' }, body: submit }))
    ).toBe('UI_CSRF_REFUSED')
    // Another page's session token is not this one's.
    const other = (await call(url, 'GET', '/ui/session')).json as { csrf: string }
    expect(
      codeOf(await call(url, 'POST', '/v1/jobs', { headers: { cookie, 'x-ffmesh-csrf': other.csrf }, body: submit }))
    ).toBe('UI_CSRF_REFUSED')
    expect(api.submitted).toEqual([])
    const ok = await call(url, 'POST', '/v1/jobs', { headers: { cookie, 'x-ffmesh-csrf': body.csrf }, body: submit })
    expect(ok.status).toBe(201)
    expect(api.submitted).toHaveLength(1)
    // The same dispatcher as the socket: its errors and codes come through unchanged.
    expect(codeOf(await call(url, 'GET', '/v1/jobs/01M8WK4J7811G05KK8KQ9QQJ3N', { headers: { cookie } }))).toBe(
      'JOB_NOT_FOUND'
    )
    expect(codeOf(await call(url, 'GET', '/v1/nope', { headers: { cookie } }))).toBe('ROUTE_NOT_FOUND')
  })

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin, even with a valid session and token', async () => {
    const api = createFakeNodeApi()
    const url = (await start(api)).url() as string
    const session = await call(url, 'GET', '/ui/session')
    const headers = { cookie: cookieOf(session), 'x-ffmesh-csrf': (session.json as { csrf: string }).csrf }
    expect(codeOf(await call(url, 'GET', '/', { headers: { host: 'rebind.example:7676' } }))).toBe('UI_HOST_REFUSED')
    expect(codeOf(await call(url, 'GET', '/ui/session', { headers: { host: 'rebind.example' } }))).toBe(
      'UI_HOST_REFUSED'
    )
    const foreign = await call(url, 'POST', '/v1/jobs', {
      headers: { ...headers, origin: 'http://evil.example' },
      body: { source, profile: 'h264' }
    })
    expect(foreign.status).toBe(403)
    expect(codeOf(foreign)).toBe('UI_ORIGIN_REFUSED')
    expect(
      codeOf(await call(url, 'GET', '/v1/events', { headers: { ...headers, origin: 'http://evil.example' } }))
    ).toBe('UI_ORIGIN_REFUSED')
    expect(api.submitted).toEqual([])
  })

  it('refuses a request target that is not a path as a bad request, not as its own failure', async () => {
    const url = (await start(createFakeNodeApi())).url() as string
    logs.length = 0
    for (const target of ['//', '//a:99999/', '/\\a:99999/']) {
      const reply = await call(url, 'GET', target)
      expect({ target, status: reply.status, code: codeOf(reply) }).toEqual({ target, status: 400, code: 'BAD_ARGUMENTS' })
    }
    expect(logs.filter(l => JSON.parse(l).level >= 50)).toEqual([])
  })
})

describe('the dashboard server with a password', () => {
  it('refuses everything but the page and sign-in without a session; a wrong password is refused and rate-limited', async () => {
    const passwordFile = path.join(dir, 'pw-1')
    await setUiPassword(passwordFile, 'the right one')
    const url = (await start(createFakeNodeApi(), { passwordFile })).url() as string
    expect((await call(url, 'GET', '/')).status).toBe(200)
    const anonymous = await call(url, 'GET', '/ui/session')
    expect(anonymous.json).toEqual({ signedIn: false, passwordSet: true, csrf: null, node: null })
    expect(anonymous.headers['set-cookie']).toBeUndefined()
    for (const p of ['/v1/jobs', '/v1/node', '/v1/events', '/v1/peers']) {
      expect(codeOf(await call(url, 'GET', p)), p).toBe('UI_LOGIN_REQUIRED')
    }
    expect(
      codeOf(
        await call(url, 'POST', '/ui/login', {
          headers: { 'content-type': 'text/plain' },
          body: { password: 'the right one' }
        })
      )
    ).toBe('UI_CSRF_REFUSED')
    for (let i = 0; i < 5; i++) {
      const wrong = await call(url, 'POST', '/ui/login', { body: { password: `guess ${i}` } })
      expect(wrong.status).toBe(401)
      expect(codeOf(wrong)).toBe('UI_LOGIN_FAILED')
    }
    const limited = await call(url, 'POST', '/ui/login', { body: { password: 'the right one' } })
    expect(limited.status).toBe(429)
    expect(codeOf(limited)).toBe('UI_LOGIN_RATE_LIMITED')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(limited.headers['set-cookie']).toBeUndefined()
  })

  it('signs in with the right password; a new password ends the session and its event stream; nothing secret is logged', async () => {
    const passwordFile = path.join(dir, 'pw-2')
    await setUiPassword(passwordFile, 'first password')
    const url = (await start(createFakeNodeApi(), { passwordFile, sweepMs: 100 })).url() as string
    logs.length = 0
    const login = await call(url, 'POST', '/ui/login', { body: { password: 'first password' } })
    expect(login.status).toBe(200)
    const cookie = cookieOf(login)
    const csrf = (login.json as { csrf: string }).csrf
    expect(login.json).toMatchObject({ signedIn: true, passwordSet: true, node: { name: 'fake' } })
    expect((await call(url, 'GET', '/v1/jobs', { headers: { cookie } })).status).toBe(200)
    const { hostname, port } = new URL(url)
    const stream = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ host: hostname, port, path: '/v1/events', headers: { cookie } }, resolve).on('error', reject).end()
    })
    expect(stream.statusCode).toBe(200)
    const ended = new Promise(resolve => {
      stream.on('close', resolve)
      stream.resume()
    })
    await setUiPassword(passwordFile, 'second password')
    await ended
    expect(codeOf(await call(url, 'GET', '/v1/jobs', { headers: { cookie } }))).toBe('UI_LOGIN_REQUIRED')
    const again = await call(url, 'POST', '/ui/login', { body: { password: 'second password' } })
    expect(again.status).toBe(200)
    const logout = await call(url, 'POST', '/ui/logout', {
      headers: { cookie: cookieOf(again), 'x-ffmesh-csrf': (again.json as { csrf: string }).csrf },
      body: {}
    })
    expect(logout.headers['set-cookie']?.[0]).toContain('Max-Age=0')
    expect(codeOf(await call(url, 'GET', '/v1/jobs', { headers: { cookie: cookieOf(again) } }))).toBe(
      'UI_LOGIN_REQUIRED'
    )
    const logged = logs.join('\n')
    expect(logged).toContain('dashboard signed in')
    for (const secret of [
      'first password',
      'second password',
      cookie.split('=')[1] as string,
      csrf,
      cookieOf(again).split('=')[1] as string
    ])
      expect(logged.includes(secret), 'a secret in the log').toBe(false)
  })
})

describe('a dashboard that cannot start does not stop the node', () => {
  it('stays off on a LAN address without a password, and opens once one is set', async () => {
    const passwordFile = path.join(dir, 'pw-3')
    logs.length = 0
    const server = await start(createFakeNodeApi(), { listen: '0.0.0.0:0', passwordFile, sweepMs: 100 })
    expect(server.url()).toBeNull()
    expect(logs.some(l => l.includes('"code":"UI_PASSWORD_REQUIRED"'))).toBe(true)
    await setUiPassword(passwordFile, 'now it opens')
    const deadline = Date.now() + 20_000
    while (server.url() == null && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    const url = server.url() as string
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    // Open to the LAN: any Host name, and a session for everything.
    expect((await call(url, 'GET', '/', { headers: { host: 'nas.local' } })).status).toBe(200)
    expect(codeOf(await call(url, 'GET', '/v1/jobs'))).toBe('UI_LOGIN_REQUIRED')
  })

  it('logs UI_LISTEN_FAILED naming the address when the port is taken, and UI_ASSETS_MISSING without its files', async () => {
    const taken = createServer()
    await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as AddressInfo).port
    try {
      logs.length = 0
      const server = await start(createFakeNodeApi(), { listen: `127.0.0.1:${port}` })
      expect(server.url()).toBeNull()
      const line = logs.find(l => l.includes('"code":"UI_LISTEN_FAILED"'))
      expect(line).toContain(`127.0.0.1:${port}`)
      expect(line).toContain('EADDRINUSE')
    } finally {
      taken.close()
    }
    logs.length = 0
    const bare = await start(createFakeNodeApi(), { assets: path.join(dir, 'nothing-built') })
    expect(bare.url()).toBeNull()
    expect(logs.some(l => l.includes('"code":"UI_ASSETS_MISSING"'))).toBe(true)
  })
})
