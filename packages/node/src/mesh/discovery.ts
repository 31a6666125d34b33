import { KEEP_ALIVE, type PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../logger.js'
import type { MeshLibp2p } from './libp2p.js'

/** How often we retry known peers and bootstrap addresses that are not connected. */
export const REDIAL_INTERVAL_MS = 10_000
/** A dial to a sleeping laptop should not hold a slot for long. */
export const DIAL_TIMEOUT_MS = 5_000

export interface Discovery {
  /** Adds listeners; call before libp2p.start() so no discovery event is missed. */
  start(): void
  /** Dial bootstrap addresses and known peers now (after libp2p.start()). */
  redialNow(): void
  stop(): void
  onPeerChange(handler: (peer: string, connected: boolean) => void): () => void
}

/**
 * libp2p 3 does not dial what it discovers, and `peer:discovery` fires only for peers new to the
 * (persistent) peer store. So: dial on discovery, tag every peer we reach KEEP_ALIVE, and redial
 * tagged peers and bootstrap addresses on a timer, which also covers a restart and a peer waking
 * up from sleep at its old address.
 */
export function createDiscovery (libp2p: MeshLibp2p, init: { bootstrap: string[], logger: Logger }): Discovery {
  const log = init.logger
  const handlers = new Set<(peer: string, connected: boolean) => void>()
  const dialing = new Set<string>()
  let timer: ReturnType<typeof setInterval> | undefined
  let running = false

  const dial = (target: PeerId | string, label: string): void => {
    if (!running || dialing.has(label)) return
    dialing.add(label)
    const addr = typeof target === 'string' ? multiaddr(target) : target
    libp2p.dial(addr, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      .catch((err: Error) => { log.debug({ peer: label, err: err.message }, 'dial failed') })
      .finally(() => { dialing.delete(label) })
  }

  const onDiscovery = (evt: CustomEvent<{ id: PeerId }>): void => {
    if (libp2p.getConnections(evt.detail.id).length === 0) dial(evt.detail.id, evt.detail.id.toString())
  }
  const onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail
    libp2p.peerStore.merge(peer, { tags: { [KEEP_ALIVE]: {} } })
      // Once stored, a restart redials the peer: the line tells a test it may stop the node now.
      .then(
        () => { log.debug({ peer: peer.toString() }, 'peer kept for redial') },
        (err: Error) => { log.debug({ peer: peer.toString(), err: err.message }, 'could not tag peer') }
      )
    for (const h of handlers) h(peer.toString(), true)
  }
  const onDisconnect = (evt: CustomEvent<PeerId>): void => {
    for (const h of handlers) h(evt.detail.toString(), false)
  }

  const redial = async (): Promise<void> => {
    for (const addr of init.bootstrap) {
      const peerIdText = multiaddr(addr).getComponents().find(c => c.name === 'p2p')?.value
      if (peerIdText != null && libp2p.getConnections().some(c => c.remotePeer.toString() === peerIdText)) continue
      dial(addr, addr)
    }
    const known = await libp2p.peerStore.all({ filters: [p => p.tags.has(KEEP_ALIVE)] })
    for (const peer of known) {
      if (peer.id.equals(libp2p.peerId) || libp2p.getConnections(peer.id).length > 0) continue
      dial(peer.id, peer.id.toString())
    }
  }

  return {
    start () {
      running = true
      libp2p.addEventListener('peer:discovery', onDiscovery)
      libp2p.addEventListener('peer:connect', onConnect)
      libp2p.addEventListener('peer:disconnect', onDisconnect)
      timer = setInterval(() => { this.redialNow() }, REDIAL_INTERVAL_MS)
      timer.unref()
    },
    redialNow () {
      redial().catch((err: Error) => { log.debug({ err: err.message }, 'redial failed') })
    },
    stop () {
      running = false
      clearInterval(timer)
      libp2p.removeEventListener('peer:discovery', onDiscovery)
      libp2p.removeEventListener('peer:connect', onConnect)
      libp2p.removeEventListener('peer:disconnect', onDisconnect)
    },
    onPeerChange (handler) {
      handlers.add(handler)
      return () => { handlers.delete(handler) }
    }
  }
}
