import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pino } from 'pino'
import { dataPaths } from '../../packages/node/src/config/paths.js'
import type { Config } from '../../packages/node/src/config/schema.js'
import { createLibp2pMesh, type Libp2pMesh, type Libp2pMeshInit } from '../../packages/node/src/mesh/mesh.js'
import { paced } from './pace.js'

/** In-process mesh nodes on loopback for the mesh specs and the transfer bench. */
export interface TestMesh { mesh: Libp2pMesh, dir: string, paths: ReturnType<typeof dataPaths> }

export function meshConfig (overrides: Partial<Config['mesh']> = {}): Config['mesh'] {
  return {
    enabled: true,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns: false,
    allowPeers: [],
    advertiseSeconds: 0.5,
    remoteControl: true,
    ...overrides
  }
}

/** `reuseDir` restarts a node on an earlier node's data dir (same peer store); pass its privateKey in `extra`. */
export async function startTestMesh (
  swarmKey: Uint8Array,
  config: Config['mesh'],
  extra: Partial<Libp2pMeshInit> = {},
  reuseDir?: string
): Promise<TestMesh> {
  const dir = reuseDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-mesh-')))
  const paths = dataPaths(dir)
  const mesh = await createLibp2pMesh({
    privateKey: await generateKeyPair('Ed25519'),
    swarmKey,
    config,
    name: path.basename(dir),
    version: '0.0.0-test',
    paths,
    logger: pino({ level: 'silent' }),
    ...extra
  })
  await mesh.start()
  return { mesh, dir, paths }
}

export async function stopTestMesh (t: TestMesh | undefined): Promise<void> {
  if (t == null) return
  await t.mesh.stop()
  await fs.rm(t.dir, { recursive: true, force: true })
}

export function newSwarmKey (): Uint8Array {
  return new Uint8Array(randomBytes(32))
}

export async function waitFor (
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = paced(20_000)
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** A file of random bytes written in 1 MiB pieces; returns its SHA-512. */
export async function writeRandomFile (file: string, bytes: number): Promise<string> {
  const { createHash } = await import('node:crypto')
  const hash = createHash('sha512')
  const fh = await fs.open(file, 'w')
  try {
    for (let done = 0; done < bytes;) {
      const piece = randomBytes(Math.min(1024 * 1024, bytes - done))
      hash.update(piece)
      await fh.write(piece)
      done += piece.byteLength
    }
  } finally {
    await fh.close()
  }
  return hash.digest('hex')
}
