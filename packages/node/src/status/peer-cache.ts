import type { JobStatus, NodeReport } from '@ffmesh/protocol'
import type { JobCounts } from './job-counts.js'

/** Peers whose last answers are kept; a LAN mesh has tens of nodes. */
export const MAX_CACHED_PEERS = 256
/** Jobs kept per peer for when it is away: its newest ones. */
export const MAX_CACHED_JOBS_PER_PEER = 1_000
/** Job ids whose owner is remembered (from listings and offers heard): about 100 bytes each. */
export const MAX_INDEXED_JOBS = 50_000

export interface HeardJob { job: JobStatus, heardAt: number }

/**
 * What each peer said last, in memory and bounded, so a peer that does not answer is shown with
 * its last state, and an index of job id → owner so `status JOB` asks the right node first.
 */
export interface PeerCache {
  /** A peer's whole listing (newest first) replaces what was kept of it. */
  putListing(peer: string, jobs: JobStatus[], heardAt: number): void
  putJob(peer: string, job: JobStatus, heardAt: number): void
  jobs(peer: string): HeardJob[]
  job(id: string): HeardJob | undefined
  /**
   * A peer's state, in answer to question number `askedAt` (numbered as asked): an answer to an
   * earlier question (a listing under way when a pause was sent) does not replace a later one's.
   */
  putNode(peer: string, report: NodeReport, askedAt: number): void
  node(peer: string): NodeReport | undefined
  putCounts(peer: string, counts: JobCounts): void
  counts(peer: string): JobCounts | undefined
  noteOwner(jobId: string, owner: string): void
  ownerOf(jobId: string): string | undefined
}

/** A Map used as an LRU: touching re-inserts, the first key is the stalest. */
function touch<K, V> (map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > max) map.delete(map.keys().next().value as K)
}

export function createPeerCache (
  limits: { maxPeers?: number; maxJobsPerPeer?: number; maxIndexed?: number } = {}
): PeerCache {
  const maxPeers = limits.maxPeers ?? MAX_CACHED_PEERS
  const maxJobs = limits.maxJobsPerPeer ?? MAX_CACHED_JOBS_PER_PEER
  const maxIndexed = limits.maxIndexed ?? MAX_INDEXED_JOBS
  const listings = new Map<string, Map<string, HeardJob>>()
  const nodes = new Map<string, { report: NodeReport, askedAt: number }>()
  const counts = new Map<string, JobCounts>()
  const owners = new Map<string, string>()

  const cache: PeerCache = {
    putListing (peer, jobs, heardAt) {
      const kept = new Map<string, HeardJob>()
      for (const job of jobs.slice(0, maxJobs)) kept.set(job.id, { job, heardAt })
      touch(listings, peer, kept, maxPeers)
      for (const job of jobs) cache.noteOwner(job.id, peer)
    },
    putJob (peer, job, heardAt) {
      const kept = listings.get(peer) ?? new Map<string, HeardJob>()
      touch(kept, job.id, { job, heardAt }, maxJobs)
      touch(listings, peer, kept, maxPeers)
      cache.noteOwner(job.id, peer)
    },
    jobs: peer => [...(listings.get(peer)?.values() ?? [])],
    job (id) {
      const owner = owners.get(id)
      return owner == null ? undefined : listings.get(owner)?.get(id)
    },
    putNode: (peer, report, askedAt) => {
      const kept = nodes.get(peer)
      if (kept == null || kept.askedAt <= askedAt) touch(nodes, peer, { report, askedAt }, maxPeers)
    },
    node: peer => nodes.get(peer)?.report,
    putCounts: (peer, heard) => {
      touch(counts, peer, heard, maxPeers)
    },
    counts: peer => counts.get(peer),
    noteOwner: (jobId, owner) => {
      touch(owners, jobId, owner, maxIndexed)
    },
    ownerOf: jobId => owners.get(jobId)
  }
  return cache
}
