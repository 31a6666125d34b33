import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach } from 'vitest'
import { createFakeNodeApi, type FakeNodeApi } from './fake-node-api.js'
import { createControlServer, type ControlServer } from '../../packages/node/src/control/server.js'

export interface FakeControlServer {
  /** A temp folder of this test's, removed after it. */
  readonly dir: string
  readonly socketPath: string
  readonly api: FakeNodeApi
  readonly server: ControlServer
}

/** The real control server on a unix socket in a temp folder, over a fake node, for each test of a file. */
export function useFakeControlServer (prefix: string): FakeControlServer {
  let current: FakeControlServer | undefined
  beforeEach(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
    const socketPath = path.join(dir, 'control.sock')
    const api = createFakeNodeApi()
    const server = createControlServer({ api, socketPath, logger: pino({ level: 'silent' }) })
    await server.start()
    current = { dir, socketPath, api, server }
  })
  afterEach(async () => {
    if (current == null) return
    await current.server.stop()
    await rm(current.dir, { recursive: true, force: true })
    current = undefined
  })
  const now = (): FakeControlServer => {
    if (current == null) throw new Error('the fake control server exists only inside a test')
    return current
  }
  return {
    get dir () { return now().dir },
    get socketPath () { return now().socketPath },
    get api () { return now().api },
    get server () { return now().server }
  }
}
