import { MAX_OFFER_CANDIDATES, type PeerStatus } from '@ffmesh/protocol'

/** Workers invited per offer: the best, and one spare in case it is busier than it said. */
export const OFFER_CANDIDATES = 2

/**
 * Picks the workers an offer invites: those with the most free slots, ties broken at random so
 * equal peers share the work; when nobody has a free slot, those that can prefetch. An empty list
 * invites everyone (no adverts heard yet, say).
 */
export function pickCandidates (workers: Array<Pick<PeerStatus, 'id' | 'slotsFree' | 'slotsTotal'>>, excluded: (peer: string) => boolean, random: () => number = Math.random): string[] {
  const able = workers.filter(w => w.slotsTotal > 0 && !excluded(w.id))
    .map(w => ({ w, tie: random() }))
    .sort((a, b) => b.w.slotsFree - a.w.slotsFree || a.tie - b.tie)
    .map(x => x.w)
  const free = able.filter(w => w.slotsFree > 0)
  return (free.length > 0 ? free : able).slice(0, Math.min(OFFER_CANDIDATES, MAX_OFFER_CANDIDATES)).map(w => w.id)
}
