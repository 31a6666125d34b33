import type { EventName, NodeEvent } from '@ffmesh/protocol'
import type { JobEvent } from '../../store/records.js'
import type { JobComponents } from './deps.js'

/** A job log event that this node's listeners hear under the same name. */
export type AnnouncedEvent = Extract<JobEvent, { type: EventName }>

/** What the announcement carries besides the event's name, its job and its time. */
export type Announcement = Omit<NodeEvent, 'type' | 'time' | 'id' | 'jobId'>

/**
 * Logs `event` for `jobId`, then tells this node's listeners (the dashboard, `status --watch`, the
 * owner's own ticker) under the same name. Listeners hear only what the log holds: an append that
 * fails announces nothing.
 */
export async function recordEvent (
  c: Pick<JobComponents, 'store' | 'events'>,
  jobId: string,
  event: AnnouncedEvent,
  announce: Announcement = {}
): Promise<void> {
  await c.store.append(jobId, event)
  c.events.emit(event.type, { ...announce, jobId })
}
