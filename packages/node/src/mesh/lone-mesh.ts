import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import type { Mesh } from './types.js'

/** The Mesh contract for a node with `mesh.enabled: false`: it talks to nobody. */
export function createLoneMesh (peerId: string): Mesh {
  const disabled = (what: string): FfmeshError =>
    new FfmeshError(
      ErrorCodes.MESH_DISABLED,
      `cannot ${what}: the mesh is disabled on this node (mesh.enabled: false in config.yaml)`
    )
  return {
    peerId,
    async start () {},
    async stop () {},
    async publish () {},
    onMessage: () => () => {},
    fetchBlob: async () => { throw disabled('fetch a blob from another node') },
    pushResult: async () => { throw disabled('return a result to another node') },
    serveBlobs: () => {},
    serveResults: () => {},
    setCapacity: () => {},
    peers: () => [],
    knownPeers: () => [],
    serveStatus: () => {},
    openStatus: async () => { throw disabled('ask another node for its status') },
    isConnected: () => false,
    onPeerChange: () => () => {}
  }
}
