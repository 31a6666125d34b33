/**
 * One server-sent event: its `event:` name, the joined `data:` lines, and the last event id the
 * stream gave (`id:` lines carry over to later events, as in browsers), to resume from.
 */
export interface ServerSentEvent { event: string, data: string, id: string | null }

/**
 * Incremental parser for text/event-stream (the WHATWG format): feed it chunks as they arrive, it
 * returns the events completed so far. Comment lines (heartbeats) are skipped.
 */
export function createSseParser (): (chunk: string) => ServerSentEvent[] {
  let buffer = ''
  let event = ''
  let data: string[] = []
  let lastId: string | null = null
  return (chunk) => {
    buffer += chunk
    const out: ServerSentEvent[] = []
    let newline: number
    while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
      // A CR ending the chunk may be half of a CRLF: wait for the next chunk to tell.
      if (newline === buffer.length - 1 && buffer.endsWith('\r')) break
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1))
      if (line === '') {
        if (data.length > 0) out.push({ event: event !== '' ? event : 'message', data: data.join('\n'), id: lastId })
        event = ''
        data = []
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'event') event = value
      else if (field === 'data') data.push(value)
      // An id with a NUL is ignored, as the WHATWG parser does.
      else if (field === 'id' && !value.includes('\0')) lastId = value
    }
    return out
  }
}
