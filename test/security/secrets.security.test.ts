import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes } from '@ffmesh/protocol'
import { readSwarmKey } from '../../packages/node/src/config/secrets.js'
import { ffmesh, makeDataDir, startNodeProcess, waitUntil, type NodeProcess } from '../helpers/node-harness.js'
import { paced } from '../helpers/pace.js'

/**
 * Secrets at the process level: two real `ffmesh node` processes at log level trace
 * connect, convert a job together and stop; neither log holds the swarm key or a private key in
 * any usual encoding. Secret files and the control socket are the user's alone, and the only TCP
 * listener is libp2p's.
 */
const run = promisify(execFile)
let media: string
const dirs: string[] = []
let procs: NodeProcess[] = []

function encodings (bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes)
  return [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64'), b.toString('base64url')]
}

beforeAll(async () => { media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-secrets-')) })
afterAll(async () => {
  await Promise.all(procs.map(p => p.stop().catch(() => {})))
  await Promise.all([media, ...dirs].map(d => fs.rm(d, { recursive: true, force: true })))
})

async function tcpListenPorts (pid: number): Promise<number[]> {
  const { stdout } = await run('ss', ['-Hltnp'])
  return stdout
    .split('\n')
    .filter(l => l.includes(`pid=${pid},`))
    .map(l => Number(/:(\d+)\s/.exec(l.split(/\s+/)[3] + ' ')?.[1]))
}

describe('secrets stay secret', () => {
  it('two nodes at log level trace convert a job and log no key; files and socket are 0600', async () => {
    const settings = { mesh: true, mdns: true, slots: 1, segmentSeconds: 2, extra: { log: { level: 'trace' } } }
    const a = await makeDataDir({ ...settings, name: 'sa' })
    dirs.push(a)
    const b = await makeDataDir({ ...settings, name: 'sb' }, path.join(a, 'swarm.key'))
    dirs.push(b)
    for (const dir of [a, b]) {
      expect((await fs.stat(dir)).mode & 0o777).toBe(0o700)
      for (const secret of ['swarm.key', 'identity.key']) {
        const info = await fs.stat(path.join(dir, secret))
        expect(info.mode & 0o777, secret).toBe(0o600)
        expect(info.uid).toBe(process.getuid?.())
      }
    }
    procs = [await startNodeProcess(a), await startNodeProcess(b)]
    for (const p of procs) {
      const sock = await fs.stat(path.join(p.dataDir, 'control.sock'))
      expect(sock.isSocket()).toBe(true)
      expect(sock.mode & 0o777).toBe(0o600)
      expect(sock.uid).toBe(process.getuid?.())
      // One TCP listener: libp2p on 127.0.0.1. The control API is on the unix socket only.
      expect(await tcpListenPorts(p.pid)).toHaveLength(1)
    }
    await waitUntil(async () => {
      const r = await ffmesh(['peers', '--json'], { dataDir: a })
      return r.code === 0 && (JSON.parse(r.stdout) as unknown[]).length > 0
    }, 'the nodes to meet', paced(60_000))
    const source = path.join(media, 'four.mkv')
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25:duration=4',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '25',
      source
    ])
    const submitted = await ffmesh(
      ['submit', source, '--profile', 'h264', '--out', path.join(media, 'out'), '--wait', '--json'],
      { dataDir: a }
    )
    expect(submitted.code, submitted.stderr).toBe(0)
    await Promise.all(procs.map(p => p.stop()))

    const swarmKey = await readSwarmKey(path.join(a, 'swarm.key'))
    const secrets = [...encodings(swarmKey)]
    for (const dir of [a, b]) {
      const protobuf = await fs.readFile(path.join(dir, 'identity.key'))
      secrets.push(...encodings(protobuf), ...encodings(privateKeyFromProtobuf(protobuf).raw))
    }
    for (const p of procs) {
      const log = p.log()
      // Debug lines are there (ffmpeg argv, mesh events): the level took effect.
      expect(log.length).toBeGreaterThan(1_000)
      expect(log).toContain('"level":20')
      for (const s of secrets) expect(log.includes(s), 'a secret in the log').toBe(false)
    }
  }, paced(240_000))

  it('refuses a swarm key others can read, and says how to fix it', async () => {
    const dir = await makeDataDir()
    dirs.push(dir)
    for (const mode of [0o640, 0o604, 0o666]) {
      await fs.chmod(path.join(dir, 'swarm.key'), mode)
      const r = await ffmesh(['node', '--data-dir', dir], { timeoutMs: paced(30_000) })
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain(ErrorCodes.SWARM_KEY_INSECURE)
      expect(r.stderr).toContain(`chmod 600 ${path.join(dir, 'swarm.key')}`)
    }
  }, paced(120_000))
})
