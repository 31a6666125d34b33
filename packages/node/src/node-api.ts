import fs from 'node:fs/promises'
import path from 'node:path'
import { DEFAULT_PROFILES, ErrorCodes, FfmeshError, type Profile } from '@ffmesh/protocol'
import type { NodeApi, NodeInfo } from './control/api.js'
import type { JobComponents } from './jobs/deps.js'
import { submitJob } from './jobs/intake.js'
import type { HandoffManager } from './jobs/handoff.js'
import type { Owner } from './jobs/owner.js'
import { toJobStatus } from './jobs/status.js'
import { linkWithoutOverwrite } from './store/durable-fs.js'
import type { WatchManager } from './watch/index.js'

/** Profiles this node knows: the defaults, then config's, which replace a default of the same name. */
export function profileTable (extra: Profile[]): Map<string, Profile> {
  return new Map([...DEFAULT_PROFILES, ...extra].map(p => [p.name, p]))
}

/** The operations the control API serves, over the owner, the store and the watch manager. */
export function createNodeApi (c: JobComponents, parts: { owner: Owner, handoff: HandoffManager, watches: WatchManager, info: () => NodeInfo, profiles: Map<string, Profile> }): NodeApi {
  const status = (id: string) => {
    const view = c.store.job(id)
    if (view == null) throw new FfmeshError(ErrorCodes.JOB_NOT_FOUND, `no job ${id} on this node (ffmesh status lists jobs)`)
    const s = toJobStatus(view, parts.owner.state, c.clock())
    // A handed-off job is owned elsewhere: show what its owner last reported.
    const mirror = view.job.owner !== c.mesh.peerId ? parts.handoff.mirror(id) : undefined
    if (mirror != null) return { ...s, units: mirror.units, progress: s.state === 'done' ? 1 : mirror.progress }
    if (view.job.handoff === true && view.job.owner === c.mesh.peerId && s.state === 'queued') {
      return { ...s, waiting: view.job.handoffTo == null ? 'waiting for a peer with free slots to take the job (handoff)' : `handing off to ${view.job.handoffTo}` }
    }
    return s
  }
  return {
    info: parts.info,
    async submit (req, options) {
      const job = await submitJob(c, parts.profiles, req, options)
      return { id: job.id }
    },
    listJobs: () => c.store.jobs().map(v => status(v.job.id)),
    getJob: status,
    async cancel (id) {
      await parts.owner.cancel(id)
      return status(id)
    },
    async retry (id) {
      await parts.owner.retry(id)
      return status(id)
    },
    async fetchOutput (id, outDir) {
      const job = status(id)
      if (job.state !== 'done' || job.output == null) throw new FfmeshError(ErrorCodes.JOB_NOT_DONE, `job ${id} is ${job.state}; its output can be fetched once it is done`)
      if (outDir == null || path.resolve(outDir) === path.dirname(job.output)) return { path: job.output }
      const dir = path.resolve(outDir)
      await fs.mkdir(dir, { recursive: true })
      const tmp = path.join(dir, `.ffmesh-fetch-${id}.partial`)
      await fs.copyFile(job.output, tmp)
      try {
        return { path: await linkWithoutOverwrite(tmp, dir, path.basename(job.output)) }
      } finally {
        await fs.rm(tmp, { force: true })
      }
    },
    peers: () => c.mesh.peers(),
    profiles: () => [...parts.profiles.values()],
    watches: () => parts.watches.list(),
    addWatch: (watch) => parts.watches.add(watch),
    removeWatch: (p) => parts.watches.remove(p),
    onEvent: (listener) => c.events.on(listener),
    replayEvents: (lastEventId) => c.events.since(lastEventId)
  }
}
