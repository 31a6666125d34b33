import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { EventName, EventStreamReset, NodeEvent } from '@ffmesh/protocol'

/**
 * Events kept for clients that reconnect with `Last-Event-ID`. The busiest stream is progress:
 * one `unit:progress` per unit in flight per heartbeat (jobs.heartbeatSeconds, 5 s); 50 nodes with
 * 8 slots make 80 a second, so 4096 cover about 50 s of that, and many minutes of a home mesh: a
 * phone that slept or a page that lost its Wi-Fi for a moment catches up without a refetch.
 * At about 300 bytes an event, twice that with the text the event stream formats once for all its
 * clients (control/event-stream.ts), the window costs about 2.5 MiB at most.
 */
export const EVENT_REPLAY_WINDOW = 4096

/** What a `Last-Event-ID` asks for: the events after it, or a reset when they are gone. */
export type Replay = { events: NodeEvent[] } | { reset: EventStreamReset }

/** The node's typed event bus; the control API streams it out as server-sent events. */
export interface EventBus {
  emit(type: EventName, fields?: Omit<NodeEvent, 'type' | 'time' | 'id'>): void
  on(listener: (event: NodeEvent) => void): () => void
  /** Listeners registered and not yet removed (none once every user has stopped). */
  listenerCount(): number
  /** The events after `lastEventId` (an event's `id`), oldest first, while the window holds them. */
  since(lastEventId: string): Replay
}

/** A new run id at each start, so an id from before a restart is never taken for a current one. */
function newRunId (): string {
  return randomBytes(6).toString('base64url')
}

export function createEventBus (clock: () => number = Date.now, init: { window?: number } = {}): EventBus {
  const emitter = new EventEmitter()
  // One listener per connected `status --watch` client or dashboard page; many are fine.
  emitter.setMaxListeners(0)
  const run = newRunId()
  const window = init.window ?? EVENT_REPLAY_WINDOW
  // A ring: `ring[seq % window]` holds event `seq` while seq > last - window.
  const ring: NodeEvent[] = []
  let last = 0
  return {
    emit (type, fields = {}) {
      last++
      const event: NodeEvent = { type, time: clock(), ...fields, id: `${run}:${last}` }
      ring[last % window] = event
      emitter.emit('event', event)
    },
    on (listener) {
      emitter.on('event', listener)
      return () => { emitter.off('event', listener) }
    },
    listenerCount: () => emitter.listenerCount('event'),
    since (lastEventId) {
      const match = /^([A-Za-z0-9_-]+):(\d{1,15})$/.exec(lastEventId.trim())
      if (match == null || match[1] !== run) return { reset: { type: 'reset', reason: 'restarted' } }
      const seen = Number(match[2])
      // An id from the future is not one this run gave; reading state again is the safe answer.
      if (seen > last) return { reset: { type: 'reset', reason: 'restarted' } }
      if (seen < last - window) return { reset: { type: 'reset', reason: 'expired' } }
      const events: NodeEvent[] = []
      for (let seq = seen + 1; seq <= last; seq++) events.push(ring[seq % window] as NodeEvent)
      return { events }
    }
  }
}
