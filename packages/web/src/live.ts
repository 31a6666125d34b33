import type { EventName, EventStreamReset, NodeEvent } from '@ffmesh/protocol'

/**
 * The node's event stream in the page. The browser's EventSource reconnects by itself and sends
 * the last event id it saw (`Last-Event-ID`), so the node replays what was missed; when it cannot
 * (it restarted, or the page was away too long) it says `reset` and the page reads everything
 * again. A stream the node refuses (a session that ended) is reopened by `connect` again.
 */

/** EventSource delivers named events only to listeners for their name: every event the node sends. */
export const STREAM_EVENTS = [
  'job:submitted', 'job:units-planned', 'job:planned', 'job:running', 'job:assembling', 'job:done', 'job:failed',
  'job:cancelled', 'job:retried', 'job:waiting', 'job:removed', 'job:blobs-freed', 'job:skipped', 'job:probed',
  'unit:leased', 'unit:converting', 'unit:progress', 'unit:returned', 'unit:verified', 'unit:released',
  'peer:connected', 'peer:disconnected', 'peer:rejected', 'peer:capacity', 'peer:quarantined',
  'watch:submitted', 'watch:paused', 'watch:resumed', 'watch:skipped',
  'library:scanned',
  'node:started', 'node:stopping', 'node:disk-full', 'node:disk-ok', 'node:paused', 'node:resumed'
] as const satisfies readonly EventName[]

type Assert<T extends true> = T
/**
 * The protocol's list cannot be imported at run time (the page loads no zod): this copy fails to
 * compile when the protocol gains an event it lacks, so a new event is never silently ignored.
 */
export type EveryEventListed = Assert<Exclude<EventName, typeof STREAM_EVENTS[number]> extends never ? true : false>

export type Connection = 'connecting' | 'live' | 'reconnecting'

export interface LiveInit {
  url: string
  onEvent(event: NodeEvent): void
  onReset(reset: EventStreamReset): void
  onConnection(state: Connection): void
  /** The node refused the stream (not a network break): the page checks its session, then reconnects. */
  onRefused(): void
}

export interface Live {
  /** Opens the stream again after a refusal, asking for what came after the last event seen. */
  reconnect(): void
  close(): void
}

export function connectEvents (init: LiveInit): Live {
  let lastEventId: string | null = null
  let source: EventSource | null = null

  const open = (): void => {
    const url = lastEventId == null ? init.url : `${init.url}?lastEventId=${encodeURIComponent(lastEventId)}`
    const es = new EventSource(url)
    source = es
    init.onConnection('connecting')
    es.addEventListener('open', () => { init.onConnection('live') })
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) {
        init.onConnection('reconnecting')
        init.onRefused()
      } else {
        init.onConnection('reconnecting')
      }
    })
    const onMessage = (message: MessageEvent<string>): void => {
      if (message.lastEventId !== '') lastEventId = message.lastEventId
      try {
        init.onEvent(JSON.parse(message.data) as NodeEvent)
      } catch {
        // A malformed event is skipped; the next refresh corrects anything built on it.
      }
    }
    for (const name of STREAM_EVENTS) es.addEventListener(name, onMessage as EventListener)
    es.addEventListener('reset', ((message: MessageEvent<string>) => {
      try {
        init.onReset(JSON.parse(message.data) as EventStreamReset)
      } catch {
        init.onReset({ type: 'reset', reason: 'expired' })
      }
    }) as EventListener)
  }

  open()
  return {
    reconnect () {
      source?.close()
      open()
    },
    close () {
      source?.close()
      source = null
    }
  }
}
