import { createHash } from 'node:crypto'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'

export const SWARM_KEY_BYTES = 32
/** Domain separation: the prologue must never equal a hash someone computes of the key elsewhere. */
const PROLOGUE_LABEL = 'ffmesh/noise-prologue/1'

/**
 * Noise mixes the prologue into its handshake hash, so two nodes whose prologues differ fail the
 * handshake: the swarm key gates membership without @libp2p/pnet (which crashes on large
 * transfers: in 3.0.27 its xsalsa20 runs out of WebAssembly memory between 48 and 64 MiB). The
 * key itself never goes on the wire.
 */
export function swarmPrologue (swarmKey: Uint8Array): Uint8Array {
  if (swarmKey.byteLength !== SWARM_KEY_BYTES) {
    throw new FfmeshError(
      ErrorCodes.SWARM_KEY_INVALID,
      `the swarm key must be ${SWARM_KEY_BYTES} bytes, got ${swarmKey.byteLength}; re-create it with \`ffmesh init\` or copy it from another node`
    )
  }
  return new Uint8Array(createHash('sha256').update(PROLOGUE_LABEL).update(swarmKey).digest())
}
