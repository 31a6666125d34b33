/** Counters the scale bench and tests read; all monotonic. */
export interface TopicCounters { messages: number, bytes: number }

export interface MeshStats {
  /** Gossip messages our validators rejected, by reason (schema, too-old, wrong-sender, ...). */
  gossipRejected: Record<string, number>
  /** Stream control frames refused, by reason. */
  framesRejected: Record<string, number>
  published: Record<string, TopicCounters>
  received: Record<string, TopicCounters>
  blob: { requestsServed: number, bytesServed: number, bytesFetched: number, hashMismatches: number, resumes: number }
  results: { pushed: number, received: number, refused: number }
}

export interface MeshCounters {
  readonly stats: MeshStats
  gossipRejected(reason: string): void
  frameRejected(reason: string): void
  published(topic: string, bytes: number): void
  received(topic: string, bytes: number): void
  snapshot(): MeshStats
}

export function createMeshCounters (): MeshCounters {
  const stats: MeshStats = {
    gossipRejected: {},
    framesRejected: {},
    published: {},
    received: {},
    blob: { requestsServed: 0, bytesServed: 0, bytesFetched: 0, hashMismatches: 0, resumes: 0 },
    results: { pushed: 0, received: 0, refused: 0 }
  }
  const bump = (table: Record<string, TopicCounters>, topic: string, bytes: number): void => {
    const t = table[topic] ?? (table[topic] = { messages: 0, bytes: 0 })
    t.messages++
    t.bytes += bytes
  }
  return {
    stats,
    gossipRejected (reason) { stats.gossipRejected[reason] = (stats.gossipRejected[reason] ?? 0) + 1 },
    frameRejected (reason) { stats.framesRejected[reason] = (stats.framesRejected[reason] ?? 0) + 1 },
    published (topic, bytes) { bump(stats.published, topic, bytes) },
    received (topic, bytes) { bump(stats.received, topic, bytes) },
    snapshot () { return structuredClone(stats) }
  }
}
