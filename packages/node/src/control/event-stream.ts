import type { ServerResponse } from 'node:http'
import type { NodeEvent } from '@ffmesh/protocol'
import type { NodeApi } from './api.js'

/** A comment line every 15 s keeps idle streams open through proxies and lets clients notice a dead node. */
export const SSE_HEARTBEAT_MS = 15_000
/** A client that stops reading is dropped once this much is queued for it, so it cannot grow node memory. */
export const SSE_MAX_QUEUED_BYTES = 4 * 1024 * 1024

export function formatServerSentEvent (event: NodeEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`
}

/** Streams node events to one client until it disconnects or `close` is called; returns `close`. */
export function openEventStream (api: NodeApi, res: ServerResponse, init: { heartbeatMs?: number } = {}): () => void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive'
  })
  // A first comment flushes the headers, so the client knows it is subscribed before it acts.
  res.write(': ffmesh events\n\n')

  let closed = false
  const write = (text: string): void => {
    if (closed) return
    if (res.writableLength > SSE_MAX_QUEUED_BYTES) {
      close()
      return
    }
    res.write(text)
  }
  const unsubscribe = api.onEvent(event => { write(formatServerSentEvent(event)) })
  const heartbeat = setInterval(() => { write(': heartbeat\n\n') }, init.heartbeatMs ?? SSE_HEARTBEAT_MS)
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
