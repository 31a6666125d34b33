import fs from 'node:fs/promises'
import path from 'node:path'
import {
  ErrorCodes,
  FfmeshError,
  isFfmeshError,
  JobStates,
  type JobState,
  type JobSummary,
  type NodeControlState,
  type Profile
} from '@ffmesh/protocol'
import type { NodeApi, NodeInfo } from './control/api.js'
import type { JobComponents } from './jobs/shared/deps.js'
import type { SubmitJob } from './jobs/owner/intake.js'
import type { HandoffManager } from './jobs/handoff/handoff.js'
import { outputFolderError, outputMissing, prepareOutputFolder } from './jobs/owner/output-folder.js'
import { knownProfile } from './jobs/owner/profile-table.js'
import type { ResultHold } from './jobs/worker/held-results.js'
import { removeJob } from './jobs/owner/job-commands.js'
import type { NodeControl } from './jobs/worker/node-control.js'
import type { Owner } from './jobs/owner/owner.js'
import type { JobStatusBuilder } from './jobs/owner/status.js'
import type { MeshView } from './status/mesh-view.js'
import { placeFile, placementTemp } from './store/place-file.js'
import type { LibraryManager } from './library/library-manager.js'
import { computeStats } from './library/stats.js'
import type { WatchManager } from './watch/index.js'

export { profileTable } from './jobs/owner/profile-table.js'

/** The operations the control API serves, over the owner, the store and the watch manager. */
export interface NodeApiParts {
  owner: Owner
  handoff: HandoffManager
  submit: SubmitJob
  /** The one status builder (jobs/owner/status.ts). */
  status: JobStatusBuilder
  /** The mesh as this node sees it (`status --mesh`, the dashboard). */
  meshView: MeshView
  hold: ResultHold
  watches: WatchManager
  libraries: LibraryManager
  info: () => NodeInfo
  profiles: Map<string, Profile>
  control: NodeControl
  /** The worker's pause state with its running units counted. */
  controlState: () => NodeControlState
}

export function createNodeApi (c: JobComponents, parts: NodeApiParts): NodeApi {
  const status = parts.status.ofId
  const meshView = parts.meshView
  return {
    info: parts.info,
    submit: parts.submit,
    // Only the page is turned into statuses: `ffmesh status` of 10,000 jobs shows 20 of them.
    listJobs: query =>
      c.store
        .list({
          states: query?.state,
          batch: query?.batch,
          idPrefix: query?.idPrefix,
          order: query?.order,
          offset: query?.offset,
          limit: query?.limit
        })
        .views.map(v => status(v.job.id)),
    jobSummary (batch) {
      const byState = Object.fromEntries(JobStates.map(s => [s, 0])) as Record<JobState, number>
      const { views } = c.store.list({ batch })
      for (const v of views) byState[v.job.state]++
      return { total: views.length, byState } satisfies JobSummary
    },
    getJob: status,
    async cancel (id) {
      await parts.owner.cancel(id)
      return status(id)
    },
    async retry (id) {
      await parts.owner.retry(id)
      return status(id)
    },
    async remove (id) {
      const blobs = await removeJob(c, id, async job => {
        parts.owner.forget(job)
        parts.handoff.forget(job)
        await parts.hold.forgetJob(job)
      })
      return { id, removed: true, blobsFreed: blobs }
    },
    async fetchOutput (id, outDir) {
      const job = status(id)
      if (job.state !== 'done' || job.output == null) {
        throw new FfmeshError(
          ErrorCodes.JOB_NOT_DONE,
          `job ${id} is ${job.state}; its output can be fetched once it is done`
        )
      }
      const output = job.output
      await fs.access(output).catch((err: unknown) => { throw outputMissing(id, output, err) })
      if (outDir == null || path.resolve(outDir) === path.dirname(output)) return { path: output }
      const dir = path.resolve(outDir)
      await prepareOutputFolder(dir)
      try {
        const placement = { dir, name: path.basename(output), temp: placementTemp(dir, id, 'fetch') }
        return { path: await placeFile(placement, { write: async (tmp) => await fs.copyFile(output, tmp) }) }
      } catch (err) {
        throw isFfmeshError(err) ? err : outputFolderError(dir, err, 'choose another folder with --out')
      }
    },
    peers: () => c.mesh.peers(),
    profiles: () => [...parts.profiles.values()],
    watches: () => parts.watches.list(),
    async addWatch (watch) {
      // Checked here, not at each file: a watch with a mistyped profile would refuse every file it sees.
      knownProfile(parts.profiles, watch.profile)
      return await parts.watches.add(watch)
    },
    removeWatch: p => parts.watches.remove(p),
    onEvent: listener => c.events.on(listener),
    meshNodes: options => meshView.nodes(options),
    meshJobs: (query, options) => meshView.jobs(query, options),
    meshJob: (id, options) => meshView.job(id, options),
    meshJobCounts: options => meshView.counts(options),
    async pause (request, options) {
      await parts.control.pause(request, options)
      return parts.controlState()
    },
    async resume (options) {
      await parts.control.resume({}, options)
      return parts.controlState()
    },
    async pauseNode (id, request, options) {
      return id === c.mesh.peerId
        ? await this.pause(request, options)
        : await meshView.steer(id, { type: 'pause', drain: request.drain === true }, options)
    },
    async resumeNode (id, options) {
      return id === c.mesh.peerId ? await this.resume(options) : await meshView.steer(id, { type: 'resume' }, options)
    },
    libraries: () => parts.libraries.list(),
    addLibrary: library => parts.libraries.add(library),
    removeLibrary: p => parts.libraries.remove(p),
    scan: (req, options) => parts.libraries.scan(req, options),
    stats: () => {
      const names = new Map(c.mesh.peers().map(p => [p.id, p.name]))
      names.set(c.mesh.peerId, c.config.name)
      return computeStats(c.store.jobs(), c.clock(), id => names.get(id) ?? null)
    },
    replayEvents: lastEventId => c.events.since(lastEventId)
  }
}
