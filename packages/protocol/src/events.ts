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
  jobId?: string
  index?: number
  peerId?: string
  data?: Record<string, unknown>
}
