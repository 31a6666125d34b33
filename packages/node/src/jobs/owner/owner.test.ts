import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createEventBus, type EventBus } from '../../events.js'
import { createLogger } from '../../logger.js'
import type { JobView } from '../../store/reduce.js'
import type { JobComponents } from '../shared/deps.js'
import { createOwner } from './owner.js'

const SELF = '12D3KooWBcE2VFZkW9dWQfLKmUBuZy9f1bfrbAX7pwLrjL2G1uYq'

/**
 * An owner with no jobs, on an event bus and a mesh that count who listens, and a store that
 * counts the owner's looks at its jobs (each tick takes one).
 */
function ownerWithCounts () {
  const inner = createEventBus()
  const counts = { eventListeners: 0, peerListeners: 0, looks: 0 }
  const events: EventBus = {
    ...inner,
    on (listener) {
      counts.eventListeners++
      const off = inner.on(listener)
      return () => { counts.eventListeners--; off() }
    }
  }
  const none = (): IterableIterator<JobView> => [][Symbol.iterator]()
  const c = {
    events,
    store: { inFlight: () => { counts.looks++; return none() }, queued: none, job: () => undefined },
    mesh: {
      peerId: SELF,
      peers: () => [],
      isConnected: () => false,
      onPeerChange: () => { counts.peerListeners++; return () => { counts.peerListeners-- } }
    },
    config: { jobs: { quarantineSeconds: 60, leaseSeconds: 30, maxPlanning: 1 }, worker: { slots: 1 } },
    logger: createLogger({ level: 'silent' }),
    clock: Date.now,
    bus: { publish: async () => {} }
  } as unknown as JobComponents
  const owner = createOwner(c, { localSlotsFree: () => 1, localAcceptsWork: () => true })
  /** How many times the owner looked at its jobs in the turns after `act` (in which a kicked tick runs). */
  const looksAfter = async (act: () => void): Promise<number> => {
    const before = counts.looks
    act()
    for (let i = 0; i < 5; i++) await nextTurn()
    return counts.looks - before
  }
  return { owner, events, counts, looksAfter }
}

describe('the owner as a component', () => {
  it('listens while started, and holds no listener and runs no tick once stopped', async () => {
    const { owner, events, counts, looksAfter } = ownerWithCounts()
    await owner.start()
    expect(counts).toMatchObject({ eventListeners: 1, peerListeners: 1 })
    // A new job wakes the owner at once; once stopped, nothing does.
    expect(await looksAfter(() => events.emit('job:submitted', { jobId: 'j' }))).toBeGreaterThan(0)
    await owner.stop()
    expect(counts).toMatchObject({ eventListeners: 0, peerListeners: 0 })
    expect(await looksAfter(() => events.emit('job:submitted', { jobId: 'j' }))).toBe(0)
  })

  it('stops before it started, and twice', async () => {
    const unstarted = ownerWithCounts()
    await unstarted.owner.stop()
    expect(unstarted.counts).toMatchObject({ eventListeners: 0, peerListeners: 0 })
    const { owner, counts } = ownerWithCounts()
    await owner.start()
    await owner.stop()
    await owner.stop()
    expect(counts).toMatchObject({ eventListeners: 0, peerListeners: 0 })
  })
})
