import { request, type IncomingMessage } from 'node:http'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { controlCall } from '../../../../test/helpers/control-call.js'
import { createFakeNodeApi, type FakeNodeApi } from '../../../../test/helpers/fake-node-api.js'
import { waitUntil } from '../../../../test/helpers/node-harness.js'
import { paced } from '../../../../test/helpers/pace.js'
import { MAX_EVENT_STREAMS } from './dispatch.js'
import { MAX_CONTROL_BODY_BYTES } from './http-io.js'
import { createControlServer, type ControlServer } from './server.js'

const call = controlCall

const silent = pino({ level: 'silent' })

describe('control server', () => {
  let dir: string
  let socketPath: string
  let api: FakeNodeApi
  let server: ControlServer
  let source: string

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-control-'))
    socketPath = path.join(dir, 'control.sock')
    source = path.join(dir, 'in.mkv')
    await writeFile(source, 'x')
    api = createFakeNodeApi({
      peers: [
        {
          id: 'p1',
          name: 'other',
          slotsFree: 2,
          slotsTotal: 2,
          encoders: ['libx264'],
          diskFree: 1e9,
          lastSeen: 1,
          version: '1',
          paused: false,
          draining: false,
          schedule: null,
          nextWindow: null
        }
      ]
    })
    server = createControlServer({ api, socketPath, logger: silent })
    await server.start()
  })
  afterEach(async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('listens on a socket only its owner can use', async () => {
    const info = await stat(socketPath)
    expect(info.isSocket()).toBe(true)
    expect(info.mode & 0o777).toBe(0o600)
  })

  it('serves node info, jobs, peers, profiles and watches', async () => {
    expect((await call(socketPath, 'GET', '/v1/node')).body).toMatchObject({ name: 'fake' })
    const submitted = await call(socketPath, 'POST', '/v1/jobs', { source, profile: 'h264', handoff: true })
    expect(submitted.status).toBe(201)
    const { id } = submitted.body as { id: string }
    expect(api.submitted).toEqual([{ source, profile: 'h264', handoff: true }])
    expect((await call(socketPath, 'GET', '/v1/jobs')).body).toMatchObject([{ id, state: 'queued' }])
    expect((await call(socketPath, 'GET', `/v1/jobs/${id}`)).body).toMatchObject({ id, source, profile: 'h264' })
    expect((await call(socketPath, 'POST', `/v1/jobs/${id}/retry`)).status).toBe(409)
    expect((await call(socketPath, 'POST', `/v1/jobs/${id}/fetch`, {})).body).toMatchObject({
      error: { code: 'JOB_NOT_DONE' }
    })
    expect((await call(socketPath, 'POST', `/v1/jobs/${id}/cancel`)).body).toMatchObject({ id, state: 'cancelled' })
    expect((await call(socketPath, 'POST', `/v1/jobs/${id}/retry`)).body).toMatchObject({ id, state: 'queued' })
    api.finish(id, 'done')
    expect((await call(socketPath, 'POST', `/v1/jobs/${id}/fetch`, { outDir: dir })).body).toEqual({
      path: path.join(dir, 'in.mkv.out.mkv')
    })
    expect((await call(socketPath, 'GET', '/v1/peers')).body).toMatchObject([{ id: 'p1', slotsFree: 2, paused: false }])
    expect((await call(socketPath, 'GET', '/v1/mesh/jobs?state=done&limit=5')).body).toMatchObject([
      { id, state: 'done', ownerAway: false }
    ])
    expect((await call(socketPath, 'GET', '/v1/mesh/jobs?state=&limit=')).body).toMatchObject([{ id }])
    expect((await call(socketPath, 'GET', `/v1/mesh/jobs/${id}`)).body).toMatchObject({ id, ownerName: 'fake' })
    expect((await call(socketPath, 'POST', '/v1/node/pause', { drain: true })).body).toMatchObject({
      paused: true,
      pausedBy: 'user'
    })
    expect((await call(socketPath, 'GET', '/v1/mesh/nodes')).body).toMatchObject([{ self: true, paused: true }])
    expect((await call(socketPath, 'POST', '/v1/node/resume', {})).body).toMatchObject({ paused: false })
    expect((await call(socketPath, 'GET', '/v1/profiles')).body).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'h265' })])
    )
    const watch = await call(socketPath, 'POST', '/v1/watches', { path: dir, profile: 'h264', output: dir })
    expect(watch.status).toBe(201)
    expect((await call(socketPath, 'GET', '/v1/watches')).body).toMatchObject([
      { path: dir, recursive: true, state: 'active' }
    ])
    expect((await call(socketPath, 'DELETE', '/v1/watches', { path: dir })).status).toBe(200)
    expect((await call(socketPath, 'DELETE', '/v1/watches', { path: dir })).body).toMatchObject({
      error: { code: 'WATCH_NOT_FOUND' }
    })
  })

  it('maps errors to status codes with a stable code and no stack', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['GET', '/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV', undefined, 404, 'JOB_NOT_FOUND'],
      ['POST', '/v1/jobs', { source, profile: 'nope' }, 400, 'UNKNOWN_PROFILE'],
      ['POST', '/v1/jobs', { source: 'relative.mkv', profile: 'h264' }, 400, 'BAD_ARGUMENTS'],
      ['POST', '/v1/jobs', { source, profile: 'h264', extra: 1 }, 400, 'BAD_ARGUMENTS'],
      ['POST', '/v1/jobs', '{not json', 400, 'BAD_ARGUMENTS'],
      ['POST', '/v1/jobs', { source: 'x'.repeat(MAX_CONTROL_BODY_BYTES), profile: 'h264' }, 413, 'REQUEST_TOO_LARGE'],
      ['POST', '/v1/watches', { path: dir, profile: 'h264', output: dir, afterSuccess: 'move' }, 400, 'BAD_ARGUMENTS'],
      ['GET', '/v2/nothing', undefined, 404, 'ROUTE_NOT_FOUND'],
      // A job id that is not valid percent-encoding is the client's mistake, not an internal error.
      ['GET', '/v1/jobs/%E0%A4%A', undefined, 400, 'BAD_ARGUMENTS'],
      ['POST', '/v1/jobs/%ZZ/cancel', {}, 400, 'BAD_ARGUMENTS'],
      ['DELETE', '/v1/jobs', undefined, 405, 'BAD_ARGUMENTS'],
      ['POST', '/v1/node/pause', { drain: 'yes' }, 400, 'BAD_ARGUMENTS'],
      ['POST', '/v1/node/resume', { now: true }, 400, 'BAD_ARGUMENTS'],
      ['GET', '/v1/mesh/jobs?limit=0', undefined, 400, 'BAD_ARGUMENTS'],
      ['GET', '/v1/mesh/jobs?limit=many', undefined, 400, 'BAD_ARGUMENTS'],
      ['GET', '/v1/mesh/jobs?state=asleep', undefined, 400, 'BAD_ARGUMENTS'],
      ['GET', '/v1/mesh/jobs?colour=red', undefined, 400, 'BAD_ARGUMENTS'],
      // A route without query parameters refuses one, as a route with them refuses an unknown one.
      ['GET', '/v1/stats?since=7d', undefined, 400, 'BAD_ARGUMENTS'],
      ['GET', '/v1/peers?all=1', undefined, 400, 'BAD_ARGUMENTS'],
      ['GET', '/v1/events?since=0', undefined, 400, 'BAD_ARGUMENTS'],
      ['GET', '/v1/mesh/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV', undefined, 404, 'JOB_NOT_FOUND'],
      // A target the URL parser would read a host from is not a path.
      ['GET', '//', undefined, 400, 'BAD_ARGUMENTS'],
      ['GET', '//a:99999/', undefined, 400, 'BAD_ARGUMENTS'],
      ['GET', '//ffmesh/v1/jobs', undefined, 400, 'BAD_ARGUMENTS']
    ]
    for (const [method, url, body, status, code] of cases) {
      const reply = await call(socketPath, method, url, body)
      expect({
        method,
        url,
        status: reply.status,
        code: (reply.body as { error: { code: string } }).error.code
      }).toEqual({ method, url, status, code })
    }
    expect((await call(socketPath, 'GET', '/v1/stats?since=7d')).body).toEqual({
      error: { code: 'BAD_ARGUMENTS', message: '/v1/stats takes no query parameters; remove "since"' }
    })
    expect((await call(socketPath, 'GET', '/v1/events?since=0')).body).toEqual({
      error: { code: 'BAD_ARGUMENTS', message: '/v1/events takes only lastEventId; remove "since"' }
    })
    expect((await call(socketPath, 'GET', '/v1/mesh/jobs?colour=red')).body).toEqual({
      error: { code: 'BAD_ARGUMENTS', message: 'invalid query: Unrecognized key: "colour"' }
    })
    api.getJob = () => { throw new Error('database exploded at /secret/path') }
    const internal = await call(socketPath, 'GET', '/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV')
    expect(internal.status).toBe(500)
    expect(internal.body).toEqual({ error: { code: 'INTERNAL', message: expect.not.stringContaining('secret') } })
  })

  it('streams events as server-sent events and unsubscribes when the client leaves', async () => {
    let listeners = 0
    const onEvent = api.onEvent
    api.onEvent = (l) => { listeners++; const off = onEvent(l); return () => { listeners--; off() } }
    const received: string[] = []
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ socketPath, path: '/v1/events' }, resolve).on('error', reject).end()
    })
    expect(res.headers['content-type']).toContain('text/event-stream')
    res.setEncoding('utf8')
    const gotDone = new Promise<void>(resolve => {
      res.on('data', (chunk: string) => {
        received.push(chunk)
        if (received.join('').includes('event: job:done')) resolve()
      })
    })
    const { id } = await api.submit({ source, profile: 'h264' })
    api.finish(id, 'done')
    await gotDone
    const text = received.join('')
    expect(text).toContain('event: job:submitted\ndata: ')
    const data = text.split('\n').find(l => l.startsWith('data: ') && l.includes('job:done'))
    expect(JSON.parse(data!.slice(6))).toMatchObject({ type: 'job:done', jobId: id })
    expect(listeners).toBe(1)
    res.destroy()
    // The server learns of the hang-up when its socket closes, some time after ours: poll for it.
    await vi.waitFor(() => { expect(listeners).toBe(0) }, { timeout: paced(5_000), interval: 10 })
  })

  it('refuses a second server on a live socket and replaces a stale one', async () => {
    const second = createControlServer({ api, socketPath, logger: silent })
    await expect(second.start()).rejects.toMatchObject({
      code: 'NODE_ALREADY_RUNNING',
      message: expect.stringContaining(dir)
    })
    expect((await call(socketPath, 'GET', '/v1/node')).status).toBe(200)
    await server.stop()
    await expect(stat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' })
    // A crashed node leaves its socket file behind: a process that listens and is killed with SIGKILL.
    const { spawn } = await import('node:child_process')
    const crashed = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`
    ])
    await new Promise(resolve => crashed.stdout.once('data', resolve))
    crashed.kill('SIGKILL')
    await new Promise(resolve => crashed.once('exit', resolve))
    expect((await stat(socketPath)).isSocket()).toBe(true)
    server = createControlServer({ api, socketPath, logger: silent })
    await server.start()
    expect((await call(socketPath, 'GET', '/v1/node')).status).toBe(200)
  })

  it('stops what a client asked for when the client hangs up before the answer', async () => {
    let started = 0
    const stopped: unknown[] = []
    // A request that answers only when it is stopped, as a long dry-run scan or a remote pause.
    api.resume = async (options = {}) => await new Promise((_resolve, reject) => {
      started++
      options.signal?.addEventListener('abort', () => {
        stopped.push(options.signal?.reason)
        reject(options.signal?.reason)
      }, { once: true })
    })
    const req = request({
      socketPath,
      method: 'POST',
      path: '/v1/node/resume',
      headers: { 'content-type': 'application/json', 'content-length': 2 }
    })
    req.on('error', () => {})
    req.end('{}')
    await waitUntil(async () => started === 1, 'the request to reach the node', paced(10_000))
    req.destroy()
    await waitUntil(async () => stopped.length === 1, 'its work to stop', paced(10_000))
    expect(String(stopped[0])).toMatch(/client closed the connection/)
  })

  it('stops promptly with an event stream open', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ socketPath, path: '/v1/events' }, resolve).on('error', reject).end()
    })
    const ended = new Promise(resolve => { res.on('close', resolve); res.resume() })
    const started = Date.now()
    await server.stop()
    await ended
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('serves MAX_EVENT_STREAMS event streams at once, refuses one more with TOO_MANY_STREAMS, and takes it once one closes', async () => {
    const open = (): Promise<IncomingMessage> =>
      new Promise((resolve, reject) => {
        request({ socketPath, path: '/v1/events', agent: false }, resolve).on('error', reject).end()
      })
    const streams: IncomingMessage[] = []
    try {
      for (let i = 0; i < MAX_EVENT_STREAMS; i++) streams.push(await open())
      expect(streams.every(r => r.statusCode === 200)).toBe(true)
      const refused = await call(socketPath, 'GET', '/v1/events')
      expect([refused.status, (refused.body as { error: { code: string } }).error.code]).toEqual([429, 'TOO_MANY_STREAMS'])
      const first = streams.shift() as IncomingMessage
      const closed = new Promise(resolve => first.once('close', resolve))
      first.destroy()
      await closed
      await waitUntil(async () => {
        const again = await open()
        if (again.statusCode === 200) streams.push(again)
        else again.destroy()
        return again.statusCode === 200
      }, 'a stream to be served again', paced(10_000))
    } finally {
      for (const r of streams) r.destroy()
    }
  })
})
