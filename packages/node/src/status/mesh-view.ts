import {
  ErrorCodes,
  FfmeshError,
  isFfmeshError,
  JOB_ID_PATTERN,
  MAX_MESH_JOBS_LIMIT,
  type JobState,
  type JobStatus,
  type MeshJobCounts,
  type MeshJobStatus,
  type MeshNodeStatus,
  type NodeControlState,
  type NodeReport,
  type PeerStatus
} from '@ffmesh/protocol'
import type { JobMessageOf } from '../jobs/shared/message-router.js'
import type { Logger } from '../logger.js'
import type { Mesh } from '../mesh/types.js'
import { createPeerAsker, inPool } from './mesh-collector.js'
import { addCounts, type JobCounts } from './job-counts.js'
import { createPeerCache } from './peer-cache.js'
import { newestIdFirst } from './status-pages.js'

/** Peers asked at once: enough to hide round trips, few enough to keep this node's CPU for work. */
export const MESH_STATUS_CONCURRENCY = 4
/**
 * How long a mesh listing waits for all peers; one that has not answered by then is shown as away
 * with its last state. A listing of 10,000 jobs from one peer takes about a second on loopback.
 */
export const MESH_STATUS_DEADLINE_MS = 15_000

export interface MeshViewComponents {
  mesh: Pick<Mesh, 'peerId' | 'knownPeers' | 'openStatus'>
  logger: Logger
  clock: () => number
  /** This node as the mesh sees it. */
  selfNode: () => MeshNodeStatus
  /**
   * Jobs in this node's store, newest first, in `state` and at most `limit` of them: those it owns
   * and those it handed to another node (a mirror). Older ones could not make the listing.
   */
  localJobs: (query: { state?: JobState, limit: number }) => JobStatus[]
  localJob: (id: string) => JobStatus | undefined
  /** The jobs this node owns, by state. */
  localCounts: () => JobCounts
  /** MESH_STATUS_DEADLINE_MS unless a test waits less. */
  deadlineMs?: number
}

export interface MeshView {
  /** An offer names its job and comes from its owner: `status JOB` then knows whom to ask. */
  noteOffer(offer: JobMessageOf<'offer'>, from: string): void
  nodes(options?: { signal?: AbortSignal }): Promise<MeshNodeStatus[]>
  jobs(query: { state?: JobState; limit?: number }, options?: { signal?: AbortSignal }): Promise<MeshJobStatus[]>
  job(id: string, options?: { signal?: AbortSignal }): Promise<MeshJobStatus>
  /** Every node's count of the jobs it owns, summed; a node that does not answer, by what it said last. */
  counts(options?: { signal?: AbortSignal }): Promise<MeshJobCounts>
  /** Pauses or resumes another node's worker (that node decides: mesh.remoteControl). */
  steer(
    peer: string,
    request: { type: 'pause'; drain: boolean } | { type: 'resume' },
    options?: { signal?: AbortSignal }
  ): Promise<NodeControlState>
}

const newestFirst = (a: { id: string }, b: { id: string }): number => newestIdFirst(a.id, b.id)

/**
 * The whole mesh from this node: it asks every peer it has heard recently (a few at a time, within
 * one deadline) over the status protocol and keeps each answer, so a peer that does not answer is
 * shown with the last state heard from it, marked away.
 */
export function createMeshView (c: MeshViewComponents): MeshView {
  const log = c.logger.child({ component: 'mesh-view' })
  const cache = createPeerCache()
  const asker = createPeerAsker(c.mesh)
  const self = c.mesh.peerId
  const deadlineMs = c.deadlineMs ?? MESH_STATUS_DEADLINE_MS

  /**
   * Questions about nodes, numbered as they are asked: the cache keeps the answer to the latest
   * (a counter, not the clock, which a time sync may set back).
   */
  let questions = 0
  const deadline = (signal?: AbortSignal): AbortSignal => {
    const timeout = AbortSignal.timeout(deadlineMs)
    return signal == null ? timeout : AbortSignal.any([signal, timeout])
  }
  const names = (): Map<string, PeerStatus & { online: boolean }> => new Map(c.mesh.knownPeers().map(p => [p.id, p]))
  const online = (): string[] => c.mesh.knownPeers().filter(p => p.online).map(p => p.id)
  const mine = (job: JobStatus): MeshJobStatus => ({
    ...job,
    ownerName: c.selfNode().name,
    ownerAway: false,
    heardAt: c.clock()
  })
  const fromPeer = (job: JobStatus, name: string, away: boolean, heardAt: number): MeshJobStatus => ({
    ...job,
    ownerName: name,
    ownerAway: away,
    heardAt
  })

  return {
    noteOffer (offer, from) {
      if (from !== self) cache.noteOwner(offer.unit.jobId, from)
    },

    async nodes (options = {}) {
      const peers = c.mesh.knownPeers()
      const signal = deadline(options.signal)
      const live = peers.filter(p => p.online)
      const askedAt = ++questions
      await inPool(live, MESH_STATUS_CONCURRENCY, async (p) => {
        const report = await asker.node(p.id, { signal })
        if (report != null) cache.putNode(p.id, report, askedAt)
      })
      const others = peers.map((p): MeshNodeStatus => {
        // The newest answer heard: this listing's, or a later one's (a pause sent while it waited).
        const report = cache.node(p.id) ?? null
        return {
          id: p.id,
          name: p.name,
          self: false,
          online: p.online,
          lastSeen: p.lastSeen,
          version: p.version,
          slotsTotal: p.slotsTotal,
          slotsFree: p.slotsFree,
          encoders: p.encoders,
          diskFree: p.diskFree,
          // The advert's free disk is what is left above minFreeDisk: zero means it refuses units.
          diskFull: p.diskFree === 0,
          paused: report?.paused ?? p.paused,
          draining: report?.draining ?? p.draining,
          schedule: report?.schedule ?? p.schedule,
          converting: report?.converting ?? []
        }
      })
      return [c.selfNode(), ...others]
    },

    async jobs (query, options = {}) {
      const limit = query.limit ?? MAX_MESH_JOBS_LIMIT
      const signal = deadline(options.signal)
      const known = names()
      const byId = new Map<string, MeshJobStatus>()
      const local = c.localJobs({ state: query.state, limit })
      for (const job of local) if (job.owner === self) byId.set(job.id, mine(job))
      const peers = online()
      const results = await inPool(peers, MESH_STATUS_CONCURRENCY, async (peer) => {
        const jobs = await asker.jobs(peer, { state: query.state, limit }, { signal })
        // Only a whole listing replaces what was kept; a filtered one adds to it.
        if (query.state == null) cache.putListing(peer, jobs, c.clock())
        else for (const job of jobs) cache.putJob(peer, job, c.clock())
        return jobs
      })
      const heard = new Set<string>()
      peers.forEach((peer, i) => {
        const result = results[i]
        const name = known.get(peer)?.name ?? ''
        if (result?.status === 'fulfilled') {
          heard.add(peer)
          for (const job of result.value) byId.set(job.id, fromPeer(job, name, false, c.clock()))
        } else {
          log.debug(
            { peer, err: (result?.reason as Error | undefined)?.message },
            'peer did not answer the mesh listing'
          )
        }
      })
      // Peers that did not answer, and those that went away: their last state, marked away.
      for (const p of known.values()) {
        if (heard.has(p.id)) continue
        for (const { job, heardAt } of cache.jobs(p.id)) {
          if (!byId.has(job.id)) byId.set(job.id, fromPeer(job, p.name, true, heardAt))
        }
      }
      // A job this node handed off and whose owner said nothing of it: what the owner last reported.
      for (const job of local) {
        if (byId.has(job.id)) continue
        byId.set(job.id, fromPeer(job, known.get(job.owner)?.name ?? '', true, job.updatedAt))
      }
      return [...byId.values()]
        .filter(j => query.state == null || j.state === query.state)
        .sort(newestFirst)
        .slice(0, limit)
    },

    async counts (options = {}) {
      const signal = deadline(options.signal)
      const byState = c.localCounts()
      const uncounted: string[] = []
      const peers = c.mesh.knownPeers()
      const live = peers.filter(p => p.online)
      const answers = await inPool(live, MESH_STATUS_CONCURRENCY, async (p) => {
        const counts = await asker.counts(p.id, { signal })
        cache.putCounts(p.id, counts)
        return counts
      })
      const answered = new Map(live.map((p, i) => [p.id, answers[i]?.status === 'fulfilled' ? answers[i].value : null]))
      for (const p of peers) {
        const counts = answered.get(p.id) ?? cache.counts(p.id)
        if (counts != null) addCounts(byState, counts)
        else uncounted.push(p.name !== '' ? p.name : p.id)
      }
      return { total: Object.values(byState).reduce((a, b) => a + b, 0), byState, uncounted }
    },

    async steer (peer, request, options = {}) {
      if (!c.mesh.knownPeers().some(p => p.id === peer)) {
        throw new FfmeshError(
          ErrorCodes.PEER_UNREACHABLE,
          `no node ${peer} has been heard in this mesh (\`ffmesh peers\` lists them)`
        )
      }
      const askedAt = ++questions
      const signal = deadline(options.signal)
      let report: NodeReport
      try {
        report = await asker.steer(peer, request, { signal })
      } catch (err) {
        // The deadline ends a wait or a stream with a bare abort, which would reach the person as INTERNAL.
        if (isFfmeshError(err) || options.signal?.aborted === true || !signal.aborted) throw err
        throw new FfmeshError(
          ErrorCodes.PEER_UNREACHABLE,
          `${peer} did not answer the ${request.type} within ${deadlineMs / 1000} s ` +
            '(it may be starting, or busy); try again'
        )
      }
      cache.putNode(peer, report, askedAt)
      const { converting: _converting, ...state } = report
      log.info({ peer, request: request.type }, 'steered another node')
      return state
    },

    async job (id, options = {}) {
      // Peers refuse anything but a whole job id as a malformed request: nobody is asked for one.
      if (!JOB_ID_PATTERN.test(id)) {
        throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `"${id.slice(0, 64)}" is not a job id (26 characters, as \`ffmesh status\` lists them)`)
      }
      const local = c.localJob(id)
      if (local?.owner === self) return mine(local)
      const signal = deadline(options.signal)
      const known = names()
      const ask = async (peers: string[]): Promise<MeshJobStatus | null> => {
        const found = await inPool(peers, MESH_STATUS_CONCURRENCY, async (peer) => {
          const job = await asker.job(peer, id, { signal })
          if (job != null) cache.putJob(peer, job, c.clock())
          return job
        })
        for (const [i, result] of found.entries()) {
          if (result.status === 'fulfilled' && result.value != null) {
            return fromPeer(result.value, known.get(peers[i] as string)?.name ?? '', false, c.clock())
          }
        }
        return null
      }
      // The owner if known (a listing, an offer, a handed-off job say who); a job id alone does
      // not name its owner, so otherwise (or if the owner does not know it) every peer heard recently.
      const owner = cache.ownerOf(id) ?? local?.owner
      const answer =
        (owner != null && owner !== self ? await ask([owner]) : null) ?? (await ask(online().filter(p => p !== owner)))
      if (answer != null) return answer
      const last = cache.job(id)
      if (last != null) return fromPeer(last.job, known.get(last.job.owner)?.name ?? '', true, last.heardAt)
      if (local != null) return fromPeer(local, known.get(local.owner)?.name ?? '', true, local.updatedAt)
      throw new FfmeshError(
        ErrorCodes.JOB_NOT_FOUND,
        `no node in the mesh that answered has job ${id} (\`ffmesh status --mesh\` lists every job)`
      )
    }
  }
}
