import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes } from '@ffmesh/protocol'
import { ffmesh } from './helpers/node-harness.js'

/**
 * The data dir is private: `ffmesh init` makes it so, and `ffmesh node` refuses a data dir or a
 * config.yaml that other users can write (config.yaml names the ffmpeg binary the node runs).
 */
let root: string
beforeAll(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-fd-private-')) })
afterAll(async () => { await fs.rm(root, { recursive: true, force: true }) })

const mode = async (p: string): Promise<number> => (await fs.stat(p)).mode & 0o777

async function initialised (name: string): Promise<string> {
  const dir = path.join(root, name)
  const r = await ffmesh(['init', '--data-dir', dir])
  expect(r.code, r.stderr).toBe(0)
  await fs.writeFile(path.join(dir, 'config.yaml'), 'mesh:\n  enabled: false\nworker:\n  minFreeDisk: 0\n')
  return dir
}

async function expectInsecure (dir: string, culprit: string): Promise<void> {
  const r = await ffmesh(['node', '--data-dir', dir], { timeoutMs: 60_000 })
  expect(r.code, r.stdout + r.stderr).not.toBe(0)
  expect(r.stderr).toContain(`error ${ErrorCodes.DATA_DIR_INSECURE}:`)
  expect(r.stderr).toContain(culprit)
  // Refused before anything was opened or made.
  expect(await fs.stat(path.join(dir, 'db')).then(() => true, () => false)).toBe(false)
}

describe('the data dir is private', () => {
  it('init makes a new data dir, and an existing empty one, 0700', async () => {
    const fresh = await initialised('fresh')
    expect(await mode(fresh)).toBe(0o700)
    const empty = path.join(root, 'made-beforehand')
    await fs.mkdir(empty)
    await fs.chmod(empty, 0o777)
    expect((await ffmesh(['init', '--data-dir', empty])).code).toBe(0)
    expect(await mode(empty)).toBe(0o700)
  })

  it('node refuses a world-writable data dir and a world-writable config.yaml with DATA_DIR_INSECURE, naming the path', async () => {
    const open = await initialised('open-dir')
    await fs.chmod(open, 0o777)
    await expectInsecure(open, open)

    const config = await initialised('open-config')
    await fs.chmod(path.join(config, 'config.yaml'), 0o666)
    await expectInsecure(config, path.join(config, 'config.yaml'))

    const group = await initialised('group-writable-key')
    await fs.chmod(path.join(group, 'swarm.key'), 0o620)
    await expectInsecure(group, path.join(group, 'swarm.key'))
  })
})
