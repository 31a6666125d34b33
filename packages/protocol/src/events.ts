/**
 * Event names, `noun:verb`, shared by the node's typed event bus and the control API's event
 * stream (server-sent events), so `ffmesh status --watch` sees exactly what the node logs.
 */
export const EventNames = [
  'job:submitted', 'job:units-planned', 'job:planned', 'job:running', 'job:assembling', 'job:done', 'job:failed',
  'job:cancelled', 'job:retried', 'job:waiting', 'job:removed', 'job:blobs-freed', 'job:skipped', 'job:probed',
  'unit:leased', 'unit:converting', 'unit:progress', 'unit:returned', 'unit:verified', 'unit:released',
  'peer:connected', 'peer:disconnected', 'peer:rejected', 'peer:capacity', 'peer:quarantined',
  'watch:submitted', 'watch:paused', 'watch:resumed', 'watch:skipped',
  'library:scanned',
  'node:started', 'node:stopping', 'node:disk-full', 'node:disk-ok', 'node:paused', 'node:resumed'
] as const

export type EventName = typeof EventNames[number]

export interface NodeEvent {
  type: EventName
  time: number
  /**
   * `<run>:<seq>`, set by the node's event bus: `seq` grows by one with each event, `run` is new at
   * each start of the node. The event stream sends it as the `id:` of each event, so a client that
   * reconnects with `Last-Event-ID` gets what it missed.
   */
  id?: string
  jobId?: string
  index?: number
  peerId?: string
  data?: Record<string, unknown>
}

/**
 * The event stream's answer to a `Last-Event-ID` it cannot replay (the node restarted, or the
 * event fell out of its replay window): the client missed events and must read the state again.
 */
export const EVENT_STREAM_RESET = 'reset'
export interface EventStreamReset {
  type: typeof EVENT_STREAM_RESET
  /** `restarted`: the id is from an earlier run of the node; `expired`: older than the window. */
  reason: 'restarted' | 'expired'
}
