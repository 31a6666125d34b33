/** Records a running node's events from its control socket (the stream `ffmesh status --watch` reads). */
import { EVENT_STREAM_RESET, type NodeEvent } from '@ffmesh/protocol'
import { createControlClient } from '../../packages/cli/dist/client.js'
import { dataPaths } from '../../packages/node/dist/index.js'

export interface EventRecorder { events: NodeEvent[], close(): void }

export async function recordEvents (dataDir: string, options: { signal?: AbortSignal } = {}): Promise<EventRecorder> {
  const client = createControlClient({ socketPath: dataPaths(dataDir).controlSocket, dataDir })
  const sub = await client.openEvents(options)
  const events: NodeEvent[] = []
  void (async () => {
    try {
      // A fresh stream (no Last-Event-ID) never resets; a reset would carry no event to record.
      for await (const e of sub) if (e.type !== EVENT_STREAM_RESET) events.push(e)
    } catch {
      // The node stopped: the record so far is what there is.
    }
  })()
  return { events, close: () => sub.close() }
}

/** Per unit of one job: kind is not in events, so the caller passes it; times are seconds from `t0`. */
export function unitTimeline (
  events: NodeEvent[],
  jobId: string,
  t0: number,
  nameOf: (peer: string | undefined) => string
): Array<Array<string | number>> {
  const own = events.filter(e => e.jobId === jobId)
  return own
    .filter(e => e.type === 'unit:leased')
    .map(lease => {
      const verified = own.find(e => e.type === 'unit:verified' && e.index === lease.index && e.time >= lease.time)
      return [
        `unit ${String(lease.index)}`,
        nameOf(lease.peerId),
        ((lease.time - t0) / 1000).toFixed(1),
        verified == null ? '-' : ((verified.time - t0) / 1000).toFixed(1),
        verified == null ? '-' : ((verified.time - lease.time) / 1000).toFixed(1)
      ]
    })
}
