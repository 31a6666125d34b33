import { CAPACITY_TOPIC, type GossipMessage, type PeerStatus } from '@ffmesh/protocol'
import type { Logger } from '../logger.js'
import type { Gossip } from './gossip.js'
import type { CapacityBody } from './types.js'

/** A peer missing this many advert intervals is dropped from `peers()` (it slept or left). */
export const MISSED_ADVERTS_BEFORE_DROP = 3

/**
 * Free disk moves with every write on the filesystem, so "advertise on change" on the exact figure
 * meant an advert at nearly every worker refresh (2 s) while a job wrote pieces and results.
 * Smaller moves wait for the next periodic advert; the figure is a hint for owners anyway, since a
 * worker checks its own disk before it accepts a unit.
 */
export const DISK_ADVERT_STEP_BYTES = 64 * 1024 * 1024

/**
 * A peer that joins hears this node's capacity this long after, not at the next interval: it can
 * list and choose us at once. Joins within the delay share one advert (a whole mesh starting up).
 */
export const JOIN_ADVERT_DELAY_MS = 250

/** Peers remembered after they went away, for `status --mesh` (the least recently heard go first). */
export const MAX_AWAY_PEERS = 256

/** Whether a new capacity is worth an advert now rather than at the next interval. */
export function worthAdvertising (before: CapacityBody | undefined, after: CapacityBody): boolean {
  if (before == null) return true
  const { diskFree: diskBefore, ...restBefore } = before
  const { diskFree: diskAfter, ...restAfter } = after
  return JSON.stringify(restBefore) !== JSON.stringify(restAfter) ||
    Math.abs(diskAfter - diskBefore) >= DISK_ADVERT_STEP_BYTES || (diskBefore === 0) !== (diskAfter === 0)
}

export interface CapacityTable {
  start(): void
  stop(): void
  setCapacity(capacity: CapacityBody): void
  peers(): PeerStatus[]
  /** Peers heard recently, then those that went away (with what they said last). */
  known(): Array<PeerStatus & { online: boolean }>
}

export function createCapacityTable (
  gossip: Gossip,
  init: { self: string; advertiseSeconds: number; clock: () => number; logger: Logger }
): CapacityTable {
  const intervalMs = init.advertiseSeconds * 1000
  const table = new Map<string, PeerStatus>()
  /** Insertion order is the order they went away in: the oldest is forgotten first. */
  const away = new Map<string, PeerStatus>()
  let current: CapacityBody | undefined
  /** What peers last heard; a change is measured from it, so a slow drift still gets told. */
  let advertised: CapacityBody | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let joinTimer: ReturnType<typeof setTimeout> | undefined
  let unsubscribe: (() => void) | undefined
  let unsubscribeJoins: (() => void) | undefined
  let running = false

  const advertise = (): void => {
    if (!running || current == null) return
    advertised = current
    gossip.publish({ type: 'capacity', ...current }).catch((err: Error) => {
      init.logger.warn({ err: err.message }, 'capacity advert failed')
    })
  }
  const onPeerJoined = (): void => {
    if (joinTimer != null) return
    joinTimer = setTimeout(() => {
      joinTimer = undefined
      advertise()
    }, JOIN_ADVERT_DELAY_MS)
    joinTimer.unref()
  }
  const onMessage = (message: GossipMessage, from: string): void => {
    if (message.type !== 'capacity' || from === init.self) return
    away.delete(from)
    const schedule = message.schedule ?? null
    table.set(from, {
      id: from,
      name: message.name,
      slotsFree: message.slotsFree,
      slotsTotal: message.slotsTotal,
      encoders: message.encoders,
      diskFree: message.diskFree,
      diskFull: message.diskFull === true,
      lastSeen: init.clock(),
      version: message.version,
      paused: message.paused ?? false,
      draining: message.draining ?? false,
      schedule,
      nextWindow: schedule?.next ?? null
    })
  }

  return {
    start () {
      running = true
      unsubscribe = gossip.onMessage(onMessage)
      unsubscribeJoins = gossip.onPeerJoined(CAPACITY_TOPIC, onPeerJoined)
      timer = setInterval(advertise, intervalMs)
      timer.unref()
      advertise()
    },
    stop () {
      running = false
      clearInterval(timer)
      clearTimeout(joinTimer)
      joinTimer = undefined
      unsubscribe?.()
      unsubscribeJoins?.()
    },
    setCapacity (capacity) {
      const changed = worthAdvertising(advertised, capacity)
      current = { ...capacity, encoders: [...capacity.encoders] }
      if (changed) advertise()
    },
    peers () {
      const cutoff = init.clock() - MISSED_ADVERTS_BEFORE_DROP * intervalMs
      for (const [id, peer] of table) {
        if (peer.lastSeen >= cutoff) continue
        table.delete(id)
        away.set(id, peer)
        if (away.size > MAX_AWAY_PEERS) away.delete(away.keys().next().value as string)
      }
      return [...table.values()].map(p => ({ ...p, encoders: [...p.encoders] }))
    },
    known () {
      const online = this.peers().map(p => ({ ...p, online: true }))
      return [...online, ...[...away.values()].reverse().map(p => ({ ...p, encoders: [...p.encoders], online: false }))]
    }
  }
}
