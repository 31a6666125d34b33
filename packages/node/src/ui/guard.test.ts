import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { checkCsrf, checkHost, checkOrigin, cookieValue } from './guard.js'

const req = (method: string, headers: Record<string, string>): IncomingMessage =>
  ({ method, headers }) as unknown as IncomingMessage
const code = (err: { code: string } | null): string | null => err?.code ?? null

describe('dashboard request checks', () => {
  it('on loopback, answers loopback host names only (DNS rebinding), on any port', () => {
    for (const host of [
      '127.0.0.1:7676',
      'localhost:7676',
      '[::1]:7676',
      'localhost:8080',
      '127.0.0.2',
      'dash.localhost:7676'
    ])
      expect(code(checkHost(req('GET', { host }), true)), host).toBeNull()
    for (const host of [
      'evil.example:7676',
      '192.168.1.5:7676',
      '127.0.0.1.evil.example',
      'localhost.evil.example:7676',
      ''
    ])
      expect(code(checkHost(req('GET', { host }), true)), host).toBe('UI_HOST_REFUSED')
    expect(code(checkHost(req('GET', {}), true))).toBe('UI_HOST_REFUSED')
    // A dashboard open to the LAN has a password: any name reaches it.
    expect(code(checkHost(req('GET', { host: 'nas.local:7676' }), false))).toBeNull()
  })

  it('refuses a foreign Origin, a null one, and cross-site fetches; lets a link from elsewhere open the page', () => {
    const host = '127.0.0.1:7676'
    expect(code(checkOrigin(req('POST', { host, origin: 'http://127.0.0.1:7676' }), '/v1/jobs'))).toBeNull()
    expect(code(checkOrigin(req('POST', { host }), '/v1/jobs'))).toBeNull()
    for (const origin of ['http://evil.example', 'http://127.0.0.1:7677', 'null', 'not a url']) {
      expect(code(checkOrigin(req('POST', { host, origin }), '/v1/jobs')), origin).toBe('UI_ORIGIN_REFUSED')
      expect(code(checkOrigin(req('GET', { host, origin }), '/v1/events')), origin).toBe('UI_ORIGIN_REFUSED')
    }
    for (const site of ['cross-site', 'same-site']) {
      expect(
        code(checkOrigin(req('GET', { host, 'sec-fetch-site': site, 'sec-fetch-mode': 'cors' }), '/v1/jobs'))
      ).toBe('UI_ORIGIN_REFUSED')
      expect(
        code(checkOrigin(req('GET', { host, 'sec-fetch-site': site, 'sec-fetch-mode': 'navigate' }), '/'))
      ).toBeNull()
      expect(
        code(checkOrigin(req('GET', { host, 'sec-fetch-site': site, 'sec-fetch-mode': 'navigate' }), '/v1/jobs'))
      ).toBe('UI_ORIGIN_REFUSED')
    }
    expect(code(checkOrigin(req('GET', { host, 'sec-fetch-site': 'same-origin' }), '/v1/jobs'))).toBeNull()
  })

  it('wants JSON and the session token on every request that changes something', () => {
    const json = { 'content-type': 'application/json' }
    expect(code(checkCsrf(req('GET', {}), 'T'))).toBeNull()
    expect(code(checkCsrf(req('POST', { ...json, 'x-ffmesh-csrf': 'T' }), 'T'))).toBeNull()
    expect(code(checkCsrf(req('DELETE', { ...json, 'x-ffmesh-csrf': 'T' }), 'T'))).toBeNull()
    expect(code(checkCsrf(req('POST', json), 'T'))).toBe('UI_CSRF_REFUSED')
    expect(code(checkCsrf(req('POST', { ...json, 'x-ffmesh-csrf': 'U' }), 'T'))).toBe('UI_CSRF_REFUSED')
    expect(code(checkCsrf(req('POST', { ...json, 'x-ffmesh-csrf': 'T' }), null))).toBe('UI_CSRF_REFUSED')
    expect(code(checkCsrf(req('POST', { 'content-type': 'text/plain', 'x-ffmesh-csrf': 'T' }), 'T'))).toBe(
      'UI_CSRF_REFUSED'
    )
  })

  it('reads one cookie among several', () => {
    expect(cookieValue(req('GET', { cookie: 'a=1; ffmesh_session_7676=abc; b=2' }), 'ffmesh_session_7676')).toBe('abc')
    expect(cookieValue(req('GET', { cookie: 'ffmesh_session_7677=abc' }), 'ffmesh_session_7676')).toBeNull()
    expect(cookieValue(req('GET', {}), 'x')).toBeNull()
  })
})
