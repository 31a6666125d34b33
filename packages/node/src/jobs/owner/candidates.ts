import { MAX_OFFER_CANDIDATES, type PeerStatus } from '@ffmesh/protocol'
import { readierFirst } from './busy-time.js'
import { takeRoom, type Readiness } from './worker-load.js'

/** Workers invited per offer: the best, and one spare in case it is busier than it said. */
export const OFFER_CANDIDATES = 2

/**
 * Picks the workers an offer invites: those with the most free slots, ties broken at random so
 * equal peers share the work; when nobody has a free slot, those with room for a prefetch whose
 * slot frees first (see busy-time.ts). An empty list invites everyone (no adverts heard yet, say).
 *
 * The same workers are invited whoever comes first, but the first, the favourite, is a peer
 * rather than the owner itself (`owner.self`) when the two tie, as in the grant: the owner's core
 * also plans, verifies and assembles. A whole unit (`owner.whole`) is the exception: its input is
 * a whole file on the owner's disk, which a peer fetches in full before it starts, where the
 * owner's own worker starts at once (at a batch's start the peer waited for 148 MB while the
 * owner's slot idled).
 */
export function pickCandidates (
  workers: Array<Pick<PeerStatus, 'id' | 'slotsFree' | 'slotsTotal'> & Readiness>,
  excluded: (peer: string) => boolean,
  owner: { self: string, whole?: boolean },
  random: () => number = Math.random
): string[] {
  const here = (w: { id: string }): number => (owner.whole === true && w.id === owner.self ? 0 : 1)
  const able = workers
    .filter(w => w.slotsTotal > 0 && !excluded(w.id))
    .map(w => ({ w, tie: random() }))
    .sort((a, b) => readierFirst(a.w, b.w) || here(a.w) - here(b.w) || a.tie - b.tie)
    .map(x => x.w)
  const free = able.filter(w => w.slotsFree > 0)
  // A worker without room for a prefetch is no spare: it would keep the offer and claim it the
  // moment its slot frees, ahead of the unit the owner counts that slot for (keepSlotFor).
  const roomy = able.filter(w => takeRoom(w) > 0)
  const picked = (free.length > 0 ? free : roomy.length > 0 ? roomy : able).slice(
    0,
    Math.min(OFFER_CANDIDATES, MAX_OFFER_CANDIDATES)
  )
  const [first, second] = picked
  const tied = second != null && first != null && readierFirst(first, second) === 0
  if (owner.whole !== true && first?.id === owner.self && tied) {
    picked.push(picked.shift() as typeof first)
  }
  return picked.map(w => w.id)
}
