/** Failures within the window that put a peer in quarantine. */
export const QUARANTINE_AFTER_FAILURES = 3
/** The window in which failures count toward quarantine. */
export const QUARANTINE_WINDOW_MS = 10 * 60_000

export interface Quarantine {
  /** Records a failure; returns true when it puts the peer in quarantine. */
  recordFailure(peer: string): boolean
  /** Takes back the peer's latest failure (it was not the peer's fault), and the quarantine it began. */
  forgive(peer: string, lift: boolean): void
  isQuarantined(peer: string): boolean
  list(): Array<{ peer: string, until: number }>
}

/**
 * Peers that fail units again and again (bad results, crashes, leases left to expire) are kept
 * away from this owner's units for a while, so a flapping or broken node cannot stall the others.
 * Memory only: a restart forgives, which is the safe direction.
 */
export function createQuarantine (init: { durationMs: number, clock: () => number }): Quarantine {
  const failures = new Map<string, number[]>()
  const until = new Map<string, number>()
  const quarantine: Quarantine = {
    recordFailure (peer: string): boolean {
      const now = init.clock()
      const recent = (failures.get(peer) ?? []).filter(t => now - t < QUARANTINE_WINDOW_MS)
      recent.push(now)
      failures.set(peer, recent)
      if (recent.length < QUARANTINE_AFTER_FAILURES || quarantine.isQuarantined(peer)) return false
      until.set(peer, now + init.durationMs)
      failures.delete(peer)
      return true
    },
    forgive (peer: string, lift: boolean): void {
      failures.get(peer)?.pop()
      if (lift) until.delete(peer)
    },
    isQuarantined (peer: string): boolean {
      const t = until.get(peer)
      return t != null && t > init.clock()
    },
    list (): Array<{ peer: string, until: number }> {
      const now = init.clock()
      return [...until].filter(([, t]) => t > now).map(([peer, t]) => ({ peer, until: t }))
    }
  }
  return quarantine
}
