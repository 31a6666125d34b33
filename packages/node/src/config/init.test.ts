import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { parse } from 'yaml'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { initDataDir } from './init.js'
import { dataPaths } from './paths.js'
import { ConfigSchema } from './schema.js'
import { readIdentity, readSwarmKey } from './secrets.js'

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777
const codeOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (e: { code?: string }) => e.code
  )

describe('initDataDir', () => {
  let tmp: string
  beforeEach(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-init-')) })
  afterEach(async () => { await rm(tmp, { recursive: true, force: true }) })

  it('creates the data dir, identity, swarm key and config with private modes', async () => {
    const dir = path.join(tmp, 'node')
    const paths = dataPaths(dir)
    const result = await initDataDir({ dataDir: dir })
    expect(result.created.sort()).toEqual([paths.root, paths.identity, paths.swarmKey, paths.config].sort())
    expect(await mode(paths.root)).toBe(0o700)
    expect(await mode(paths.identity)).toBe(0o600)
    expect(await mode(paths.swarmKey)).toBe(0o600)
    expect(await readFile(paths.swarmKey, 'utf8')).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    expect((await readSwarmKey(paths.swarmKey)).length).toBe(32)
    const key = privateKeyFromProtobuf(await readFile(paths.identity))
    expect(key.type).toBe('Ed25519')
    expect(peerIdFromPrivateKey(key).toString()).toBe(result.peerId)
    const config = parse(await readFile(paths.config, 'utf8')) as { name?: string }
    expect(typeof config.name).toBe('string')
    expect(ConfigSchema.safeParse(config).success).toBe(true)
  })

  it('is idempotent: a second run keeps the identity and key and creates nothing', async () => {
    const dir = path.join(tmp, 'node')
    const first = await initDataDir({ dataDir: dir })
    const key = await readFile(dataPaths(dir).swarmKey)
    const second = await initDataDir({ dataDir: dir })
    expect(second).toEqual({ peerId: first.peerId, created: [] })
    expect(await readFile(dataPaths(dir).swarmKey)).toEqual(key)
  })

  it('imports a swarm key, accepts the same key again and refuses a different one', async () => {
    const a = path.join(tmp, 'a')
    const b = path.join(tmp, 'b')
    await initDataDir({ dataDir: a })
    const keyFile = dataPaths(a).swarmKey
    await initDataDir({ dataDir: b, swarmKeyFile: keyFile })
    expect(await readSwarmKey(dataPaths(b).swarmKey)).toEqual(await readSwarmKey(keyFile))
    expect((await initDataDir({ dataDir: b, swarmKeyFile: keyFile })).created).toEqual([])

    const other = path.join(tmp, 'other.key')
    await writeFile(other, `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}\n`, { mode: 0o600 })
    expect(await codeOf(initDataDir({ dataDir: b, swarmKeyFile: other }))).toBe('BAD_ARGUMENTS')
    expect(await readSwarmKey(dataPaths(b).swarmKey)).toEqual(await readSwarmKey(keyFile))
  })

  it('refuses to import a malformed key file and creates nothing', async () => {
    const bad = path.join(tmp, 'bad.key')
    await writeFile(bad, 'not a key\n')
    expect(await codeOf(initDataDir({ dataDir: path.join(tmp, 'c'), swarmKeyFile: bad }))).toBe('SWARM_KEY_INVALID')
    expect(await codeOf(stat(path.join(tmp, 'c')))).toBe('ENOENT')
    expect(await codeOf(initDataDir({ dataDir: path.join(tmp, 'c'), swarmKeyFile: path.join(tmp, 'nope.key') }))).toBe(
      'SWARM_KEY_MISSING'
    )
  })
})

describe('readSwarmKey and readIdentity', () => {
  let tmp: string
  beforeEach(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-secrets-')) })
  afterEach(async () => { await rm(tmp, { recursive: true, force: true }) })

  it('names the missing file and how to create it', async () => {
    const file = path.join(tmp, 'swarm.key')
    const err = await readSwarmKey(file).catch((e: { code: string, message: string }) => e)
    expect(err).toMatchObject({ code: 'SWARM_KEY_MISSING' })
    expect((err as unknown as Error).message).toContain(file)
    expect((err as unknown as Error).message).toContain('ffmesh init')
  })

  it('refuses a key readable by others with the chmod fix', async () => {
    const file = path.join(tmp, 'swarm.key')
    await writeFile(file, `/key/swarm/psk/1.0.0/\n/base16/\n${'0f'.repeat(32)}\n`)
    await chmod(file, 0o644)
    const err = await readSwarmKey(file).catch((e: { code: string, message: string }) => e)
    expect(err).toMatchObject({ code: 'SWARM_KEY_INSECURE' })
    expect((err as unknown as Error).message).toContain(`chmod 600 ${file}`)
    await chmod(file, 0o600)
    expect(Buffer.from(await readSwarmKey(file)).toString('hex')).toBe('0f'.repeat(32))
  })

  it.each([
    ['wrong header', `/key/swarm/psk/2.0.0/\n/base16/\n${'0f'.repeat(32)}\n`],
    ['wrong encoding', `/key/swarm/psk/1.0.0/\n/base64/\n${'0f'.repeat(32)}\n`],
    ['short key', `/key/swarm/psk/1.0.0/\n/base16/\n${'0f'.repeat(31)}\n`],
    ['not hex', `/key/swarm/psk/1.0.0/\n/base16/\n${'zz'.repeat(32)}\n`],
    ['extra line', `/key/swarm/psk/1.0.0/\n/base16/\n${'0f'.repeat(32)}\nmore\n`]
  ])('refuses a malformed key (%s)', async (_why, text) => {
    const file = path.join(tmp, 'swarm.key')
    await writeFile(file, text, { mode: 0o600 })
    expect(await codeOf(readSwarmKey(file))).toBe('SWARM_KEY_INVALID')
  })

  it('reads the identity init wrote, and says to run init when it is missing or corrupt', async () => {
    const dir = path.join(tmp, 'node')
    const { peerId } = await initDataDir({ dataDir: dir })
    expect(peerIdFromPrivateKey(await readIdentity(dataPaths(dir).identity)).toString()).toBe(peerId)
    const missing = await readIdentity(path.join(tmp, 'identity.key')).catch(
      (e: { code: string; message: string }) => e
    )
    expect(missing).toMatchObject({ code: 'NOT_INITIALIZED' })
    expect((missing as unknown as Error).message).toContain(`ffmesh init --data-dir ${tmp}`)
    await writeFile(path.join(tmp, 'identity.key'), 'garbage', { mode: 0o600 })
    expect(await codeOf(readIdentity(path.join(tmp, 'identity.key')))).toBe('IDENTITY_INVALID')
  })

  it('refuses an identity other users can read', async () => {
    const dir = path.join(tmp, 'exposed')
    await initDataDir({ dataDir: dir })
    await chmod(dataPaths(dir).identity, 0o644)
    expect(await codeOf(readIdentity(dataPaths(dir).identity))).toBe('IDENTITY_INSECURE')
  })
})
