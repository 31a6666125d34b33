import fs from 'node:fs/promises'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import { loadConfig } from './config/load.js'
import { dataPaths } from './config/paths.js'
import { readIdentity, readSwarmKey } from './config/secrets.js'
import type { NodeApi } from './control/api.js'
import { createControlServer } from './control/server.js'
import { createEventBus } from './events.js'
import { referencedBlobs } from './jobs/cleanup.js'
import { createHandoff } from './jobs/handoff.js'
import { createResultHold } from './jobs/held-results.js'
import { createJobBus } from './jobs/job-bus.js'
import type { JobComponents } from './jobs/deps.js'
import { createOwner } from './jobs/owner.js'
import { createWorker } from './jobs/worker.js'
import { createLogger, type Logger } from './logger.js'
import { checkFfmpeg, createFfmpegRunner } from './media/index.js'
import { createMediaToolkit, type MediaToolkit } from './media/toolkit.js'
import { createLibp2pMesh, createLoneMesh, type Mesh, type MeshStats } from './mesh/index.js'
import { createNodeApi, profileTable } from './node-api.js'
import { createBlobStore } from './store/blob-store.js'
import { hashFile } from './store/hash.js'
import { openJobStore } from './store/job-store.js'
import { VERSION } from './version.js'
import { createUiServer, type UiServer } from './ui/index.js'
import { createWatchManager } from './watch/index.js'

export interface RunningNode {
  api: NodeApi
  peerId: string
  /** Gossip and transfer counters of the mesh (null with mesh.enabled false), for benches and tests. */
  meshStats(): MeshStats | null
  /** Stops everything in order: no new work, ffmpeg children ended, state persisted. */
  stop(): Promise<void>
}

export interface StartNodeInit {
  dataDir: string
  configFile?: string
  env?: NodeJS.ProcessEnv
  logger?: Logger
  /** Fault injection for tests only; never reachable from config. */
  testHooks?: { corruptBlobByte?: (hash: string) => boolean }
  /** Replaces the ffmpeg operations (the scale simulation's stand-in converter); tests and benches only. */
  media?: (runner: ReturnType<typeof createFfmpegRunner>) => MediaToolkit
}

/**
 * The composition root: reads config and secrets, opens the job log (whose lock keeps a second
 * node off this data dir), then starts the mesh, the owner and worker sides, watched folders and
 * the control API, in that order, and stops them in reverse.
 */
export async function startNode (init: StartNodeInit): Promise<RunningNode> {
  const paths = dataPaths(init.dataDir)
  const config = await loadConfig({ dataDir: paths.root, configFile: init.configFile, env: init.env ?? process.env })
  const logger = init.logger ?? createLogger({ level: config.log.level })
  const privateKey = await readIdentity(paths.identity)
  const swarmKey = await readSwarmKey(paths.swarmKey)
  const store = await openJobStore({ path: paths.db })
  const closers: Array<() => Promise<void> | void> = [() => store.close()]
  const stopAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(err => logger.warn({ err }, 'stop step failed'))
    closers.length = 0
  }
  try {
    const runner = createFfmpegRunner({ ...config.ffmpeg, logger: logger.child({ component: 'ffmpeg' }) })
    await checkFfmpeg(runner)
    closers.push(() => runner.killAll())
    await fs.rm(paths.work, { recursive: true, force: true })
    await fs.mkdir(paths.work, { recursive: true, mode: 0o700 })
    const blobs = await createBlobStore({ dir: paths.blobs, tmpDir: paths.tmp })
    const swept = await blobs.sweepTemp()
    const orphans = await blobs.sweepUnreferenced(referencedBlobs(store))
    // No unit is in flight at start-up, so every input fetched for another owner is stale.
    const fetched = await createBlobStore({ dir: paths.fetched, tmpDir: paths.tmp })
    await fetched.sweepUnreferenced(new Set())
    const mesh: Mesh = config.mesh.enabled
      ? await createLibp2pMesh({ privateKey, swarmKey, config: config.mesh, name: config.name, version: VERSION, paths, logger: logger.child({ component: 'mesh' }), testHooks: init.testHooks })
      : createLoneMesh(peerIdFromPrivateKey(privateKey).toString())
    const events = createEventBus()
    const media = init.media?.(runner) ?? createMediaToolkit(runner)
    const c: JobComponents = { config, paths, store, blobs, fetched, mesh, bus: createJobBus(mesh), media, events, logger, clock: Date.now }
    const profiles = profileTable(config.profiles)

    // The owner and worker refer to each other through closures, called only after both exist.
    const owner = createOwner(c, { localSlotsFree: () => worker.slotsFree() })
    const hold = createResultHold(c)
    const worker = createWorker(c, {
      version: VERSION,
      acceptLocal: owner.acceptResult,
      deliverRemote: hold.deliver,
      queueLength: () => store.jobs().filter(v => v.job.owner === mesh.peerId).reduce((n, v) => n + v.units.filter(u => u.state === 'pending').length, 0)
    })
    const handoff = createHandoff(c)
    mesh.serveBlobs(async (peer, hash) => await owner.authorizeBlob(peer, hash) ?? await handoff.authorizeBlob(peer, hash))
    mesh.serveResults(owner.acceptResult)
    await mesh.start()
    closers.push(() => mesh.stop())
    await owner.start()
    closers.push(() => owner.stop())
    await worker.start()
    closers.push(() => worker.stop())
    hold.start()
    closers.push(() => hold.stop())

    const outputs = (): Set<string> => new Set(store.jobs().flatMap(v => v.job.output == null ? [] : [v.job.output]))
    const watches = createWatchManager({
      logger,
      events,
      db: store.textArea('watch'),
      submit: (req) => api.submit(req),
      onJobEnded: (listener) => events.on((e) => {
        if (e.jobId == null || (e.type !== 'job:done' && e.type !== 'job:failed' && e.type !== 'job:cancelled')) return
        const job = store.job(e.jobId)?.job
        if (job != null && TERMINAL_JOB_STATES.includes(job.state)) listener({ id: job.id, state: job.state as 'done' | 'failed' | 'cancelled', source: job.source, output: job.output })
      }),
      isNodeOutput: (file) => outputs().has(file),
      hashFile
    }, { watches: config.watch })
    let ui: UiServer | null = null
    const api = createNodeApi(c, {
      owner,
      handoff,
      watches,
      profiles,
      info: () => ({ id: mesh.peerId, name: config.name, version: VERSION, dataDir: paths.root, slots: config.worker.slots, addresses: 'multiaddrs' in mesh ? (mesh as { multiaddrs(): string[] }).multiaddrs() : [], dashboard: ui?.url() ?? null })
    })
    handoff.start((id) => api.getJob(id))
    closers.push(() => handoff.stop())
    await watches.start()
    closers.push(() => watches.stop())
    const control = createControlServer({ api, socketPath: paths.controlSocket, logger: logger.child({ component: 'control' }) })
    await control.start()
    closers.push(() => control.stop())
    if (config.ui.enabled) {
      // A dashboard that cannot start logs why and leaves the node converting (ui/server.ts).
      const dashboard = createUiServer({ api, logger: logger.child({ component: 'ui' }) }, { listen: config.ui.listen, passwordFile: paths.uiPassword })
      ui = dashboard
      await dashboard.start()
      closers.push(() => dashboard.stop())
    }
    events.emit('node:started', { peerId: mesh.peerId })
    logger.info({ peerId: mesh.peerId, dataDir: paths.root, sweptTempFiles: swept, removedOrphanBlobs: orphans, slots: config.worker.slots }, 'node started')
    return {
      api,
      peerId: mesh.peerId,
      meshStats: () => 'stats' in mesh ? (mesh as { stats(): MeshStats }).stats() : null,
      async stop () {
        events.emit('node:stopping', { peerId: mesh.peerId })
        await stopAll()
        logger.info('node stopped')
      }
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
