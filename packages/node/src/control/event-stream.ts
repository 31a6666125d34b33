import type { IncomingMessage, ServerResponse } from 'node:http'
import { EVENT_STREAM_RESET, type EventStreamReset, type NodeEvent } from '@ffmesh/protocol'
import type { NodeApi } from './api.js'

/** A comment line every 15 s keeps idle streams open through proxies and lets clients notice a dead node. */
export const SSE_HEARTBEAT_MS = 15_000
/** A client that stops reading is dropped once this much is queued for it, so it cannot grow node memory. */
export const SSE_MAX_QUEUED_BYTES = 4 * 1024 * 1024
/** Browsers wait this long before reconnecting a dropped stream (the `retry:` field); theirs is 3 s. */
export const SSE_RETRY_MS = 2_000

// Every stream sends the same event object: format it once, not once per client.
const formatted = new WeakMap<NodeEvent, string>()

export function formatServerSentEvent (event: NodeEvent): string {
  let text = formatted.get(event)
  if (text == null) {
    text = `${event.id != null ? `id: ${event.id}\n` : ''}event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`
    formatted.set(event, text)
  }
  return text
}

export function formatStreamReset (reset: EventStreamReset): string {
  return `event: ${EVENT_STREAM_RESET}\ndata: ${JSON.stringify(reset)}\n\n`
}

/** The query parameter a page that opens a new stream names the last event it saw with. */
export const LAST_EVENT_ID_PARAM = 'lastEventId'

/**
 * The id a reconnecting client last saw: the `Last-Event-ID` header (browsers send it on their own
 * reconnects) or, for a page that opens a new stream, the `lastEventId` query parameter.
 */
export function lastEventIdOf (req: IncomingMessage, url: URL): string | null {
  const header = req.headers['last-event-id']
  const value = (typeof header === 'string' ? header : null) ?? url.searchParams.get(LAST_EVENT_ID_PARAM)
  return value != null && value !== '' ? value : null
}

/**
 * Streams node events to one client until it disconnects or `close` is called; returns `close`.
 * With `lastEventId` it first sends the events after it, or a `reset` when they are gone.
 */
export function openEventStream (
  api: NodeApi,
  res: ServerResponse,
  init: { heartbeatMs?: number; lastEventId?: string | null } = {}
): () => void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive'
  })
  // A first comment flushes the headers, so the client knows it is subscribed before it acts.
  res.write(`: ffmesh events\nretry: ${SSE_RETRY_MS}\n\n`)

  let closed = false
  const write = (text: string): void => {
    if (closed) return
    if (res.writableLength > SSE_MAX_QUEUED_BYTES) {
      // Destroyed, not ended: an end waits behind what is queued, which a client that does not
      // read never takes, and the node would hold it for as long as the connection stays open.
      close()
      res.destroy()
      return
    }
    res.write(text)
  }
  // Subscribing and replaying in one synchronous step: no event falls between the two.
  const unsubscribe = api.onEvent(event => {
    write(formatServerSentEvent(event))
  })
  if (init.lastEventId != null) {
    const replay = api.replayEvents(init.lastEventId)
    if ('reset' in replay) write(formatStreamReset(replay.reset))
    else for (const event of replay.events) write(formatServerSentEvent(event))
  }
  const heartbeat = setInterval(() => {
    write(': heartbeat\n\n')
  }, init.heartbeatMs ?? SSE_HEARTBEAT_MS)
  heartbeat.unref()

  function close (): void {
    if (closed) return
    closed = true
    clearInterval(heartbeat)
    unsubscribe()
    res.end()
  }
  res.on('close', close)
  return close
}
