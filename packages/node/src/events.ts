import { EventEmitter } from 'node:events'
import type { EventName, NodeEvent } from '@ffmesh/protocol'

/** The node's typed event bus; the control API streams it out as server-sent events. */
export interface EventBus {
  emit(type: EventName, fields?: Omit<NodeEvent, 'type' | 'time'>): void
  on(listener: (event: NodeEvent) => void): () => void
}

export function createEventBus (clock: () => number = Date.now): EventBus {
  const emitter = new EventEmitter()
  // One listener per connected `status --watch` client; many are fine.
  emitter.setMaxListeners(0)
  return {
    emit (type, fields = {}) {
      emitter.emit('event', { type, time: clock(), ...fields } satisfies NodeEvent)
    },
    on (listener) {
      emitter.on('event', listener)
      return () => { emitter.off('event', listener) }
    }
  }
}
