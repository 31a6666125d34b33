import type { GossipMessage, PeerStatus } from '@ffmesh/protocol'
import type { Logger } from '../logger.js'
import type { Gossip } from './gossip.js'
import type { CapacityBody } from './types.js'

/** A peer missing this many advert intervals is dropped from `peers()` (it slept or left). */
export const MISSED_ADVERTS_BEFORE_DROP = 3

export interface CapacityTable {
  start(): void
  stop(): void
  setCapacity(capacity: CapacityBody): void
  peers(): PeerStatus[]
}

export function createCapacityTable (gossip: Gossip, init: { self: string, advertiseSeconds: number, clock: () => number, logger: Logger }): CapacityTable {
  const intervalMs = init.advertiseSeconds * 1000
  const table = new Map<string, PeerStatus>()
  let current: CapacityBody | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let unsubscribe: (() => void) | undefined
  let running = false

  const advertise = (): void => {
    if (!running || current == null) return
    gossip.publish({ type: 'capacity', ...current })
      .catch((err: Error) => { init.logger.warn({ err: err.message }, 'capacity advert failed') })
  }
  const onMessage = (message: GossipMessage, from: string): void => {
    if (message.type !== 'capacity' || from === init.self) return
    table.set(from, {
      id: from,
      name: message.name,
      slotsFree: message.slotsFree,
      slotsTotal: message.slotsTotal,
      encoders: message.encoders,
      diskFree: message.diskFree,
      lastSeen: init.clock()
    })
  }

  return {
    start () {
      running = true
      unsubscribe = gossip.onMessage(onMessage)
      timer = setInterval(advertise, intervalMs)
      timer.unref()
      advertise()
    },
    stop () {
      running = false
      clearInterval(timer)
      unsubscribe?.()
    },
    setCapacity (capacity) {
      const changed = current == null || JSON.stringify(current) !== JSON.stringify(capacity)
      current = { ...capacity, encoders: [...capacity.encoders] }
      if (changed) advertise()
    },
    peers () {
      const cutoff = init.clock() - MISSED_ADVERTS_BEFORE_DROP * intervalMs
      for (const [id, peer] of table) if (peer.lastSeen < cutoff) table.delete(id)
      return [...table.values()].map(p => ({ ...p, encoders: [...p.encoders] }))
    }
  }
}
