import type { Component } from '../../lifecycle.js'
import type { JobBus, JobMessage } from './job-bus.js'

export type JobMessageType = JobMessage['type']
export type JobMessageOf<T extends JobMessageType> = Extract<JobMessage, { type: T }>
/** Handles one message; it returns at once and catches its own failures (a message is not retried). */
export type MessageHandler<T extends JobMessageType> = (message: JobMessageOf<T>, from: string) => void
/** One handler per job message type: a type without one is a type error, not a message dropped. */
export type MessageRoutes = { [T in JobMessageType]: MessageHandler<T> }
/** The handlers one side of a node contributes (the owner, the worker, the handoff). */
export type SideMessages = Partial<MessageRoutes>

/**
 * Delivers each job message from the bus to the one handler its type maps to. node.ts builds the
 * table from the sides' handlers, so who handles what is written down in one place.
 */
export function createMessageRouter (bus: JobBus, routes: MessageRoutes): Component {
  let unsubscribe = (): void => {}
  return {
    async start () {
      unsubscribe = bus.on((message, from) => {
        // The table's type pairs each handler with its own message type, which TypeScript cannot
        // carry through an index by a value of the whole union.
        const handler = routes[message.type] as (message: JobMessage, from: string) => void
        handler(message, from)
      })
    },
    async stop () {
      unsubscribe()
      unsubscribe = () => {}
    }
  }
}
