import { createServer, type Server } from 'node:http'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createControlClient } from './client.js'

const servers: Server[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise(resolve => server.close(resolve))
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true })
})

/** A control socket that answers every request with `status` and `body`. */
async function answering (status: number, body: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-cli-client-'))
  dirs.push(dir)
  const socketPath = path.join(dir, 'control.sock')
  const server = createServer((_req, res) => { res.writeHead(status, { 'content-type': 'application/json' }).end(body) })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(socketPath, resolve))
  return socketPath
}

describe('the control client', () => {
  it('says why the node refused an event stream, with its code', async () => {
    const full = { error: { code: 'TOO_MANY_STREAMS', message: 'this node serves 128 event streams at once already' } }
    const client = createControlClient({ socketPath: await answering(429, JSON.stringify(full)), dataDir: '/d' })
    await expect(client.openEvents()).rejects.toMatchObject(full.error)
    // Not the node's JSON: the HTTP status says it.
    const other = createControlClient({ socketPath: await answering(502, '<html>'), dataDir: '/d' })
    await expect(other.openEvents()).rejects.toMatchObject({ code: 'INTERNAL', message: 'the node answered HTTP 502' })
  })
})
