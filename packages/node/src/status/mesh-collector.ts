import {
  ErrorCodes,
  FfmeshError,
  MAX_STATUS_PAGE_JOBS,
  type JobState,
  type JobStatus,
  type NodeReport,
  type StatusReply,
  type StatusRequest,
  type UnitStatus,
  type WireJob
} from '@ffmesh/protocol'
import type { StatusClient } from '../mesh/status-protocol.js'
import type { Mesh } from '../mesh/types.js'
import type { JobCounts } from './job-counts.js'
import { fromWireJob } from './status-pages.js'

/** A peer that answers BUSY (over its rate limit) is asked again after this long. */
export const BUSY_RETRY_MS = 250

/** The reply that answers a request of type T (one reply shape answers `node`, `pause` and `resume`). */
type Ok<T extends StatusRequest['type']> = StatusReply extends infer R
  ? R extends { ok: true; type: infer K }
    ? T extends K
      ? R
      : never
    : never
  : never

async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Asks one peer over the status protocol, one stream per call, and checks what comes back beyond
 * its schema: a peer speaks only for jobs it owns, and a job's units come in order.
 */
export function createPeerAsker (mesh: Pick<Mesh, 'openStatus'>) {
  /** A reply, retried while the peer says BUSY; null for NOT_FOUND; other refusals throw. */
  async function ask<T extends StatusRequest['type']> (
    client: StatusClient,
    peer: string,
    request: StatusRequest & { type: T },
    signal?: AbortSignal
  ): Promise<Ok<T> | null> {
    for (;;) {
      const reply = await client.request(request, { signal })
      if (reply.ok) return reply as Ok<T>
      if (reply.code === 'NOT_FOUND') return null
      if (reply.code === 'NOT_GRANTED') {
        throw new FfmeshError(ErrorCodes.REMOTE_CONTROL_REFUSED, `${peer} refused: ${reply.message}`)
      }
      if (reply.code !== 'BUSY') {
        throw new FfmeshError(
          ErrorCodes.TRANSFER_FAILED,
          `${peer} refused a status request: ${reply.code}: ${reply.message}`
        )
      }
      await sleep(BUSY_RETRY_MS, signal)
    }
  }

  async function withClient<T> (
    peer: string,
    signal: AbortSignal | undefined,
    fn: (client: StatusClient) => Promise<T>
  ): Promise<T> {
    const client = await mesh.openStatus(peer, { signal })
    try {
      return await fn(client)
    } finally {
      client.close()
    }
  }

  /** The units a page left out, asked for until the job's count is reached. */
  async function complete (
    client: StatusClient,
    peer: string,
    job: WireJob,
    signal?: AbortSignal
  ): Promise<JobStatus | null> {
    if (job.owner !== peer) return null
    const units: UnitStatus[] = [...job.units]
    while (units.length < job.unitCount) {
      const page = await ask(client, peer, { type: 'units', id: job.id, from: units.length }, signal)
      if (page == null || page.units.length === 0) break
      units.push(...page.units)
    }
    // A peer's job is shown only as a consistent whole.
    if (units.length !== job.unitCount || units.some((u, i) => u.index !== i)) return null
    return fromWireJob(job, units)
  }

  return {
    /** The peer's owned jobs, newest first, at most `limit`. */
    async jobs (
      peer: string,
      query: { state?: JobState; limit: number },
      options: { signal?: AbortSignal } = {}
    ): Promise<JobStatus[]> {
      return await withClient(peer, options.signal, async client => {
        const out: JobStatus[] = []
        let before: string | null = null
        while (out.length < query.limit) {
          const limit = Math.min(MAX_STATUS_PAGE_JOBS, query.limit - out.length)
          const page: Ok<'jobs'> | null = await ask(
            client,
            peer,
            { type: 'jobs', before, limit, state: query.state ?? null },
            options.signal
          )
          if (page == null) break
          for (const job of page.jobs) {
            const full = await complete(client, peer, job, options.signal)
            if (full != null) out.push(full)
          }
          // A cursor that does not move on would page forever.
          if (page.next == null || page.next === before || page.jobs.length === 0) break
          before = page.next
        }
        return out.slice(0, query.limit)
      })
    },
    /** One job the peer owns, or null when it does not. */
    async job (peer: string, id: string, options: { signal?: AbortSignal } = {}): Promise<JobStatus | null> {
      return await withClient(peer, options.signal, async client => {
        const reply = await ask(client, peer, { type: 'job', id }, options.signal)
        return reply == null || reply.job.id !== id ? null : await complete(client, peer, reply.job, options.signal)
      })
    },
    /** How many jobs the peer owns in each state; throws for a peer that cannot count (an older version). */
    async counts (peer: string, options: { signal?: AbortSignal } = {}): Promise<JobCounts> {
      return await withClient(peer, options.signal, async client => {
        const reply = await ask(client, peer, { type: 'counts' }, options.signal)
        if (reply == null) throw new FfmeshError(ErrorCodes.TRANSFER_FAILED, `${peer} did not count its jobs`)
        return reply.counts
      })
    },
    async node (peer: string, options: { signal?: AbortSignal } = {}): Promise<NodeReport | null> {
      return await withClient(
        peer,
        options.signal,
        async client => (await ask(client, peer, { type: 'node' }, options.signal))?.node ?? null
      )
    },
    /** Pauses or resumes the peer's worker; its state after. REMOTE_CONTROL_REFUSED if it says no. */
    async steer (
      peer: string,
      request: Extract<StatusRequest, { type: 'pause' | 'resume' }>,
      options: { signal?: AbortSignal } = {}
    ): Promise<NodeReport> {
      return await withClient(peer, options.signal, async client => {
        const reply = await ask(client, peer, request, options.signal)
        if (reply == null) {
          throw new FfmeshError(ErrorCodes.TRANSFER_FAILED, `${peer} did not answer the ${request.type}`)
        }
        return reply.node
      })
    }
  }
}

export type PeerAsker = ReturnType<typeof createPeerAsker>

/** Runs `fn` over `items`, at most `limit` at a time; settles every one. */
export async function inPool<T, R> (
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>
): Promise<Array<PromiseSettledResult<R>>> {
  const results: Array<PromiseSettledResult<R>> = new Array(items.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i] as T) }
      } catch (reason) {
        results[i] = { status: 'rejected', reason }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  return results
}
