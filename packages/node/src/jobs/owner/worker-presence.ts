import type { Mesh } from '../../mesh/types.js'

/**
 * Which remote workers have left the mesh: seen by this owner since it started (connected, or in
 * the capacity table), now with no connection and dropped from the capacity table (no advert for
 * MISSED_ADVERTS_BEFORE_DROP intervals, about 15 s at the default). A worker killed or unplugged
 * is noticed then, not only when its lease runs out. A worker not heard of since this node
 * started is never called gone: after a restart its lease keeps its grace to report in.
 */
export interface WorkerPresence {
  start(): void
  stop(): void
  isGone(worker: string): boolean
}

export function createWorkerPresence (
  mesh: Pick<Mesh, 'peers' | 'isConnected' | 'onPeerChange' | 'peerId'>
): WorkerPresence {
  const seen = new Set<string>()
  let unsubscribe = (): void => {}
  const advertised = (): Set<string> => {
    const ids = new Set(mesh.peers().map(p => p.id))
    for (const id of ids) seen.add(id)
    return ids
  }
  return {
    start () {
      unsubscribe = mesh.onPeerChange((peer, connected) => {
        if (connected) seen.add(peer)
      })
    },
    stop () {
      unsubscribe()
    },
    isGone (worker) {
      if (worker === mesh.peerId) return false
      const inTable = advertised().has(worker)
      return seen.has(worker) && !inTable && !mesh.isConnected(worker)
    }
  }
}
