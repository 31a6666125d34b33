import { CAPACITY_TOPIC, type GossipMessage, type MessageBody } from '@ffmesh/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../logger.js'
import { createCapacityTable, DISK_ADVERT_STEP_BYTES, JOIN_ADVERT_DELAY_MS } from './capacity.js'
import type { Gossip } from './gossip.js'
import type { CapacityBody } from './types.js'

const MiB = 1024 * 1024
const base: CapacityBody = {
  name: 'nas',
  version: '0.1.0',
  slotsTotal: 2,
  slotsFree: 2,
  encoders: ['libx264'],
  diskFree: 10_000 * MiB,
  queue: 0
}

/** A gossip that records what would have been published, and lets the test have peers join. */
function recordingGossip (): Gossip & {
  sent: Array<MessageBody<GossipMessage>>
  join: (topic: string, peer: string) => void
} {
  const sent: Array<MessageBody<GossipMessage>> = []
  const joins = new Set<{ topic: string; handler: (peer: string) => void }>()
  return {
    sent,
    join: (topic, peer) => {
      for (const j of joins) if (j.topic === topic) j.handler(peer)
    },
    start () {},
    stop () {},
    publish: async body => {
      sent.push(body)
    },
    onMessage: () => () => {},
    onPeerJoined: (topic, handler) => {
      const j = { topic, handler }
      joins.add(j)
      return () => {
        joins.delete(j)
      }
    }
  }
}

describe('capacity adverts', () => {
  afterEach(() => { vi.useRealTimers() })

  function started (): { gossip: ReturnType<typeof recordingGossip>, table: ReturnType<typeof createCapacityTable> } {
    vi.useFakeTimers()
    const gossip = recordingGossip()
    const table = createCapacityTable(gossip, {
      self: 'me',
      advertiseSeconds: 5,
      clock: () => Date.now(),
      logger: createLogger({ level: 'silent' })
    })
    table.setCapacity(base)
    table.start()
    return { gossip, table }
  }

  it('tells a slot, queue or encoder change at once', () => {
    const { gossip, table } = started()
    expect(gossip.sent).toHaveLength(1)
    table.setCapacity({ ...base, slotsFree: 1 })
    table.setCapacity({ ...base, slotsFree: 1, queue: 3 })
    table.setCapacity({ ...base, slotsFree: 1, queue: 3, encoders: ['libx264', 'libx265'] })
    expect(gossip.sent.map(m => (m.type === 'capacity' ? [m.slotsFree, m.queue, m.encoders.length] : null))).toEqual([
      [2, 0, 1],
      [1, 0, 1],
      [1, 3, 1],
      [1, 3, 2]
    ])
    table.stop()
  })

  it('keeps small moves of free disk for the next periodic advert, which carries the latest figure', () => {
    const { gossip, table } = started()
    // A worker refreshes every 2 s; free disk drifts by a few MiB with other writes on the disk.
    for (let i = 1; i <= 10; i++) table.setCapacity({ ...base, diskFree: base.diskFree - i * MiB })
    expect(gossip.sent).toHaveLength(1)
    vi.advanceTimersByTime(5_000)
    expect(gossip.sent).toHaveLength(2)
    expect(gossip.sent[1]).toMatchObject({ type: 'capacity', diskFree: base.diskFree - 10 * MiB })
    table.stop()
  })

  it('tells a drift of free disk at once when it adds up to a step since the last advert', () => {
    const { gossip, table } = started()
    const step = DISK_ADVERT_STEP_BYTES / 4
    for (let i = 1; i <= 3; i++) table.setCapacity({ ...base, diskFree: base.diskFree - i * step })
    expect(gossip.sent).toHaveLength(1)
    table.setCapacity({ ...base, diskFree: base.diskFree - 4 * step })
    expect(gossip.sent).toHaveLength(2)
    table.stop()
  })

  it('tells a disk that has just filled up at once, however small the move', () => {
    const { gossip, table } = started()
    table.setCapacity({ ...base, diskFree: MiB })
    table.setCapacity({ ...base, diskFree: 0 })
    expect(gossip.sent.map(m => m.type === 'capacity' ? m.diskFree : null)).toEqual([base.diskFree, MiB, 0])
    table.stop()
  })

  it('tells peers that join, once for joins close together, without waiting for the interval', () => {
    const { gossip, table } = started()
    gossip.join(CAPACITY_TOPIC, 'peer-a')
    gossip.join(CAPACITY_TOPIC, 'peer-b')
    gossip.join('some-other-topic', 'peer-c')
    expect(gossip.sent).toHaveLength(1)
    vi.advanceTimersByTime(JOIN_ADVERT_DELAY_MS)
    expect(gossip.sent).toHaveLength(2)
    table.stop()
    gossip.join(CAPACITY_TOPIC, 'peer-d')
    vi.advanceTimersByTime(JOIN_ADVERT_DELAY_MS * 4)
    expect(gossip.sent).toHaveLength(2)
  })
})
