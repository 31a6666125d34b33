import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ErrorCodes, FfmeshError, MAX_NAME_LENGTH } from '@ffmesh/protocol'
import { dataPaths } from './paths.js'
import { formatSwarmKey, parseSwarmKey, readIdentity, readSwarmKey, SWARM_KEY_BYTES } from './secrets.js'

/** config/default.yaml ships beside the packages (repo root) and is the template for config.yaml. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../../../config/default.yaml', import.meta.url))

/** Used when the package is installed without config/default.yaml beside it. */
const MINIMAL_CONFIG =
  '# ffmesh node settings; every option is documented in config/default.yaml of the ffmesh sources.\n# name: this-host\n'

const PRIVATE_DIR_MODE = 0o700
const SECRET_FILE_MODE = 0o600
const CONFIG_FILE_MODE = 0o644

/**
 * Creates (or completes) a data dir: the directory, the node identity, the swarm key (new, or
 * imported from `swarmKeyFile`) and a commented config.yaml. Idempotent: existing files are kept,
 * so running it twice never changes a node's peer id or key.
 */
export async function initDataDir (init: {
  dataDir: string
  swarmKeyFile?: string
  signal?: AbortSignal
}): Promise<{ peerId: string; created: string[] }> {
  const paths = dataPaths(init.dataDir)
  const created: string[] = []

  const imported = init.swarmKeyFile != null ? await readImportedKey(init.swarmKeyFile) : null

  if (!(await exists(paths.root))) {
    await mkdir(paths.root, { recursive: true, mode: PRIVATE_DIR_MODE })
    await chmod(paths.root, PRIVATE_DIR_MODE)
    created.push(paths.root)
  } else if ((await readdir(paths.root)).length === 0) {
    // An empty folder made beforehand (by hand, or a mount point) becomes private like a new one;
    // one with files in it is left as it is, and `ffmesh node` says if it is not private.
    await chmod(paths.root, PRIVATE_DIR_MODE)
  }

  let peerId: string
  if (await exists(paths.identity)) {
    peerId = peerIdFromPrivateKey(await readIdentity(paths.identity, init)).toString()
  } else {
    const key = await generateKeyPair('Ed25519')
    await writeSecret(paths.identity, privateKeyToProtobuf(key))
    created.push(paths.identity)
    peerId = peerIdFromPrivateKey(key).toString()
  }

  if (await exists(paths.swarmKey)) {
    const current = await readSwarmKey(paths.swarmKey, init)
    if (imported != null && !Buffer.from(current).equals(Buffer.from(imported))) {
      throw new FfmeshError(
        ErrorCodes.BAD_ARGUMENTS,
        `${paths.swarmKey} already holds a different swarm key than ${init.swarmKeyFile}; this node belongs to another mesh. To move it, stop the node, delete ${paths.swarmKey} and run ffmesh init again with --swarm-key-file`
      )
    }
  } else {
    await writeSecret(paths.swarmKey, formatSwarmKey(imported ?? new Uint8Array(randomBytes(SWARM_KEY_BYTES))))
    created.push(paths.swarmKey)
  }

  if (!(await exists(paths.config))) {
    const template = await readFile(DEFAULT_CONFIG_FILE, { encoding: 'utf8', signal: init.signal }).catch(
      () => MINIMAL_CONFIG
    )
    await writeFile(paths.config, withName(template, defaultNodeName()), { mode: CONFIG_FILE_MODE, flag: 'wx' })
    created.push(paths.config)
  }

  return { peerId, created }
}

/** The node name shown to peers: the host name, trimmed to what the schema allows. */
export function defaultNodeName (hostname: string = os.hostname()): string {
  const name = hostname.split('.')[0].replace(/[^A-Za-z0-9_-]/g, '-').slice(0, MAX_NAME_LENGTH)
  return name !== '' ? name : `ffmesh-${randomBytes(3).toString('hex')}`
}

/** Puts `name:` in place of the template's commented-out name line, keeping every comment. */
function withName (template: string, name: string): string {
  const line = `name: ${JSON.stringify(name)}`
  return /^# name: .*$/m.test(template) ? template.replace(/^# name: .*$/m, line) : `${line}\n${template}`
}

async function readImportedKey (file: string): Promise<Uint8Array> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new FfmeshError(
      ErrorCodes.SWARM_KEY_MISSING,
      `cannot read swarm key ${file} given with --swarm-key-file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
    )
  }
  return parseSwarmKey(text, file)
}

async function writeSecret (file: string, content: Uint8Array | string): Promise<void> {
  // 'wx' refuses to overwrite: two concurrent inits cannot replace each other's key.
  await writeFile(file, content, { mode: SECRET_FILE_MODE, flag: 'wx' })
  await chmod(file, SECRET_FILE_MODE)
}

async function exists (p: string): Promise<boolean> {
  try {
    await stat(p)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

