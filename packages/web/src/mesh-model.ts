import type { MeshNodeStatus } from '@ffmesh/protocol'
import { API, fill } from './routes.js'

/**
 * What the mesh page shows of one node (`GET /v1/mesh/nodes`), in words, and which route steers
 * it. Pure functions: tested without a browser.
 */
export type MeshNodeView = MeshNodeStatus

/** A state that keeps a node from taking work, as the page shows it (the kind is its CSS class). */
export interface WorkBadge {
  kind: 'paused' | 'draining' | 'schedule' | 'disk-full'
  text: string
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

/** A time soon, as a clock on the wall says it: `22:00` today, `Mon 06:00` on another day. */
export function formatWhen (time: number, now: number): string {
  const t = new Date(time)
  const clock = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`
  return t.toDateString() === new Date(now).toDateString() ? clock : `${WEEKDAYS[t.getDay()] as string} ${clock}`
}

/** Paused by a person (here or from another node), as opposed to outside its schedule. */
export function pausedByPerson (node: MeshNodeView): boolean {
  return node.paused && node.schedule?.open !== false
}

/** Why a node takes no new work (or until when its window stays open), in the order they matter. */
export function workBadges (node: MeshNodeView, now: number): WorkBadge[] {
  const badges: WorkBadge[] = []
  if (pausedByPerson(node)) {
    badges.push(node.draining ? { kind: 'draining', text: 'draining' } : { kind: 'paused', text: 'paused' })
  }
  if (node.schedule != null) {
    const until = node.schedule.next != null ? ` until ${formatWhen(node.schedule.next, now)}` : ''
    badges.push({
      kind: 'schedule',
      text: node.schedule.open ? `in its schedule${until}` : `outside its schedule${until}`
    })
  }
  if (node.diskFull) badges.push({ kind: 'disk-full', text: 'disk full' })
  return badges
}

/** The route that pauses (or drains) or resumes a node: its own for this node, the mesh's for another. */
export function steerPath (node: MeshNodeView, action: 'pause' | 'resume'): string {
  if (node.self) return action === 'pause' ? API.pause : API.resume
  return fill(action === 'pause' ? API.pauseNode : API.resumeNode, { id: node.id })
}

/** Peer id → name, for "which node converted which unit". */
export function nodeNames (nodes: MeshNodeView[]): Map<string, string> {
  return new Map(nodes.map(n => [n.id, n.name]))
}
