import { request, type IncomingMessage } from 'node:http'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { useFakeControlServer } from '../../../../test/helpers/fake-control-server.js'

/** Reads a stream's text until `until` matches; returns what came. */
function readUntil (res: IncomingMessage, until: (text: string) => boolean): Promise<string> {
  res.setEncoding('utf8')
  let text = ''
  return new Promise(resolve => {
    res.on('data', (chunk: string) => {
      text += chunk
      if (until(text)) resolve(text)
    })
  })
}

describe('the event stream resumes from Last-Event-ID', () => {
  const ctl = useFakeControlServer('ffm-ui-replay-')

  const open = (headers: Record<string, string> = {}, query = ''): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      request({ socketPath: ctl.socketPath, path: `/v1/events${query}`, headers }, resolve)
        .on('error', reject)
        .end()
    })

  it('sends an id with each event, and replays the events after it to a client that reconnects', async () => {
    const source = path.join(ctl.dir, 'in.mkv')
    await writeFile(source, 'x')
    const first = await open()
    const firstText = readUntil(first, t => t.includes('event: job:submitted'))
    const { id } = await ctl.api.submit({ source, profile: 'h264' })
    const text = await firstText
    const lastId = /^id: (\S+)$/m.exec(text)?.[1]
    expect(lastId).toMatch(/^[\w-]+:\d+$/)
    first.destroy()
    // While no client listens, the job goes on.
    ctl.api.progress(id, 0.5)
    ctl.api.finish(id, 'done')
    for (const resumed of [
      await open({ 'last-event-id': lastId as string }),
      await open({}, `?lastEventId=${encodeURIComponent(lastId as string)}`)
    ]) {
      const replayed = await readUntil(resumed, t => t.includes('event: job:done'))
      resumed.destroy()
      const types = [...replayed.matchAll(/^event: (\S+)$/gm)].map(m => m[1])
      expect(types).toEqual(['unit:progress', 'job:done'])
      expect(replayed).not.toContain('job:submitted')
    }
  })

  it('tells a client whose id it cannot replay to read everything again', async () => {
    const res = await open({ 'last-event-id': 'an-earlier-run:41' })
    const text = await readUntil(res, t => t.includes('event: reset'))
    res.destroy()
    const data = /event: reset\ndata: (.*)\n/.exec(text)?.[1]
    expect(JSON.parse(data as string)).toEqual({ type: 'reset', reason: 'restarted' })
  })
})
