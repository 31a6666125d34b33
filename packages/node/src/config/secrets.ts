import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'

/** The go-ipfs / libp2p pre-shared key file format: a header, an encoding line, the key. */
export const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/'
export const SWARM_KEY_ENCODING = '/base16/'
/** 32 bytes, as libp2p's pnet uses. */
export const SWARM_KEY_BYTES = 32

/** Encodes a swarm key in the file format `readSwarmKey` accepts. */
export function formatSwarmKey (key: Uint8Array): string {
  if (key.length !== SWARM_KEY_BYTES) {
    throw new FfmeshError(ErrorCodes.SWARM_KEY_INVALID, `a swarm key is ${SWARM_KEY_BYTES} bytes, got ${key.length}`)
  }
  return `${SWARM_KEY_HEADER}\n${SWARM_KEY_ENCODING}\n${Buffer.from(key).toString('hex')}\n`
}

/** Parses swarm key file text; throws SWARM_KEY_INVALID naming `file` (never the key itself). */
export function parseSwarmKey (text: string, file: string): Uint8Array {
  const lines = text.split(/\r?\n/).map(l => l.trim())
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  const invalid = (why: string): never => {
    throw new FfmeshError(
      ErrorCodes.SWARM_KEY_INVALID,
      `swarm key ${file} is not valid: ${why}. Expected three lines: ${SWARM_KEY_HEADER}, ${SWARM_KEY_ENCODING}, then ${SWARM_KEY_BYTES * 2} hex digits; copy the file from another node or create one with ffmesh init`
    )
  }
  if (lines.length !== 3) invalid(`it has ${lines.length} lines`)
  if (lines[0] !== SWARM_KEY_HEADER) invalid('the first line is not the swarm key header')
  if (lines[1] !== SWARM_KEY_ENCODING) invalid('the second line is not the base16 encoding marker')
  if (!new RegExp(`^[0-9a-fA-F]{${SWARM_KEY_BYTES * 2}}$`).test(lines[2])) {
    invalid(`the key is not ${SWARM_KEY_BYTES * 2} hex digits`)
  }
  return new Uint8Array(Buffer.from(lines[2], 'hex'))
}

/**
 * Reads the swarm key. The file must be readable by its owner only: a key others can read lets
 * them join the mesh and receive everything it converts.
 */
export async function readSwarmKey (file: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  let info
  try {
    info = await stat(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FfmeshError(
        ErrorCodes.SWARM_KEY_MISSING,
        `swarm key ${file} does not exist: run \`ffmesh init --data-dir ${path.dirname(file)}\` to create one, or \`ffmesh init --data-dir ${path.dirname(file)} --swarm-key-file F\` to join an existing mesh with its key`
      )
    }
    throw err
  }
  if (!info.isFile()) throw new FfmeshError(ErrorCodes.SWARM_KEY_INVALID, `swarm key ${file} is not a regular file`)
  assertOwnerOnly(file, info.mode, ErrorCodes.SWARM_KEY_INSECURE, 'swarm key')
  return parseSwarmKey(await readFile(file, { encoding: 'utf8', signal: options.signal }), file)
}

/** A secret readable by group or others is refused, with the command that fixes it. */
function assertOwnerOnly (
  file: string,
  mode: number,
  code: typeof ErrorCodes.SWARM_KEY_INSECURE | typeof ErrorCodes.IDENTITY_INSECURE,
  what: string
): void {
  if ((mode & 0o077) !== 0) {
    throw new FfmeshError(
      code,
      `${what} ${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); fix it with \`chmod 600 ${file}\``
    )
  }
}

/**
 * Reads this node's libp2p private key (protobuf), written by `ffmesh init`. Like the swarm key,
 * it must be readable by its owner only: with it another machine could pose as this node.
 */
export async function readIdentity (file: string, options: { signal?: AbortSignal } = {}): Promise<PrivateKey> {
  let bytes: Uint8Array
  try {
    assertOwnerOnly(file, (await stat(file)).mode, ErrorCodes.IDENTITY_INSECURE, 'node identity')
    bytes = await readFile(file, { signal: options.signal })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FfmeshError(
        ErrorCodes.NOT_INITIALIZED,
        `no node identity at ${file}: run \`ffmesh init --data-dir ${path.dirname(file)}\` first`
      )
    }
    throw err
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new FfmeshError(
      ErrorCodes.IDENTITY_INVALID,
      `node identity ${file} cannot be read (${(err as Error).message}); restore it from a backup, or move it away and run \`ffmesh init --data-dir ${path.dirname(file)}\` to make a new one (the node gets a new peer id)`
    )
  }
}
