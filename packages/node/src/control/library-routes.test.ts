import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { controlCall } from '../../../../test/helpers/control-call.js'
import { useFakeControlServer } from '../../../../test/helpers/fake-control-server.js'

const call = controlCall

const code = (r: { body: unknown }): string | undefined => (r.body as { error?: { code: string } }).error?.code

describe('control routes for libraries, scans, stats and paged jobs', () => {
  const ctl = useFakeControlServer('ffm-lib-routes-')

  it('pages jobs by state, order, offset and limit, and counts them by state', async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const source = path.join(ctl.dir, `in-${i}.mkv`)
      await writeFile(source, 'x')
      ids.push(
        ((await call(ctl.socketPath, 'POST', '/v1/jobs', { source, profile: 'h264' })).body as { id: string }).id
      )
    }
    ctl.api.finish(ids[1] as string, 'done')
    const page = await call(ctl.socketPath, 'GET', '/v1/jobs?state=queued&order=newest&offset=1&limit=2')
    expect((page.body as Array<{ id: string }>).map(j => j.id)).toEqual([ids[3], ids[2]])
    expect(((await call(ctl.socketPath, 'GET', '/v1/jobs')).body as unknown[]).length).toBe(5)
    expect((await call(ctl.socketPath, 'GET', '/v1/job-summary')).body).toMatchObject({
      total: 5,
      byState: { queued: 4, done: 1, skipped: 0 }
    })
  })

  it('refuses a malformed query or body with BAD_ARGUMENTS before the node sees it', async () => {
    for (const url of [
      '/v1/jobs?state=sleeping',
      '/v1/jobs?limit=-1',
      '/v1/jobs?limit=ten',
      '/v1/jobs?order=random',
      '/v1/jobs?bogus=1',
      '/v1/jobs?idPrefix=ab-c',
      `/v1/jobs?idPrefix=${'A'.repeat(27)}`
    ]) {
      const r = await call(ctl.socketPath, 'GET', url)
      expect([r.status, code(r)], url).toEqual([400, 'BAD_ARGUMENTS'])
    }
    const bodies = [
      { path: '/m', profiles: {}, output: '/o' },
      { path: '/m', profiles: { video: 'h265' } },
      { path: '/m', profiles: { video: 'h265' }, output: '/o', replace: true },
      { path: '/m', profiles: { movie: 'h265' }, output: '/o' },
      { path: '/m', profiles: { video: 'h265' }, output: '/o', rules: { minSavingPercent: 150 } }
    ]
    for (const body of bodies) {
      const scan = await call(ctl.socketPath, 'POST', '/v1/scan', body)
      expect([scan.status, code(scan)], JSON.stringify(body)).toEqual([400, 'BAD_ARGUMENTS'])
      const add = await call(ctl.socketPath, 'POST', '/v1/libraries', body)
      expect([add.status, code(add)], JSON.stringify(body)).toEqual([400, 'BAD_ARGUMENTS'])
    }
    const remove = await call(ctl.socketPath, 'DELETE', '/v1/libraries', { path: '/nowhere' })
    expect([remove.status, code(remove)]).toEqual([404, 'LIBRARY_NOT_FOUND'])
  })

  it('serves the statistics and the library list', async () => {
    expect((await call(ctl.socketPath, 'GET', '/v1/stats')).body).toMatchObject({
      converted: 0,
      skipped: 0,
      failed: 0,
      bytesSaved: 0,
      byNode: [],
      last7Days: { converted: 0 }
    })
    expect((await call(ctl.socketPath, 'GET', '/v1/libraries')).body).toEqual([])
  })
})
