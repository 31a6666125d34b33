import fs from 'node:fs/promises'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TERMINAL_JOB_STATES } from '@ffmesh/protocol'
import { loadConfig } from './config/load.js'
import { dataPaths, jobLogFiles } from './config/paths.js'
import { readIdentity, readSwarmKey } from './config/secrets.js'
import type { NodeApi } from './control/api.js'
import { createControlServer } from './control/server.js'
import { createEventBus } from './events.js'
import { assertDataDirPrivate } from './config/data-dir-security.js'
import { referencedBlobs } from './jobs/owner/cleanup.js'
import { createDiskMonitor } from './jobs/shared/disk-monitor.js'
import { createRetention } from './jobs/owner/retention.js'
import { createHandoff } from './jobs/handoff/handoff.js'
import { createResultHold } from './jobs/worker/held-results.js'
import { createJobBus } from './jobs/shared/job-bus.js'
import { createMessageRouter } from './jobs/shared/message-router.js'
import type { JobComponents } from './jobs/shared/deps.js'
import { createNodeControl } from './jobs/worker/node-control.js'
import { createOwner } from './jobs/owner/owner.js'
import { createSchedule, parseSchedule } from './jobs/worker/schedule.js'
import { toJobStatus } from './jobs/owner/status.js'
import { createWallClock } from './jobs/worker/wall-clock.js'
import { createWorker } from './jobs/worker/worker.js'
import { createLogger, type Logger } from './logger.js'
import { checkFfmpeg, createFfmpegRunner } from './media/index.js'
import { createMediaToolkit, type MediaToolkit } from './media/toolkit.js'
import { createLibp2pMesh, createLoneMesh, type Mesh, type MeshStats } from './mesh/index.js'
import { createNodeApi, profileTable } from './node-api.js'
import { createBlobStore, type BlobStore } from './store/blob-store.js'
import { hashFile } from './store/hash.js'
import { openJobStore, type JobStore } from './store/job-store.js'
import { createStatusSource } from './status/status-source.js'
import { selfNodeStatus } from './status/self-node.js'
import { VERSION } from './version.js'
import { createUiServer, type UiServer } from './ui/index.js'
import { createWatchManager } from './watch/index.js'
import { createFileIndex, FILE_INDEX_AREA } from './library/file-index.js'
import { createLibraryManager } from './library/library-manager.js'
import { createLibraryStore } from './library/library-store.js'
import { createScanner } from './library/scanner.js'

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
  // Before config is read: config.yaml names the binary this node runs.
  await assertDataDirPrivate(paths, { configFile: init.configFile })
  const config = await loadConfig({ dataDir: paths.root, configFile: init.configFile, env: init.env ?? process.env })
  const logger = init.logger ?? createLogger({ level: config.log.level })
  const privateKey = await readIdentity(paths.identity)
  const swarmKey = await readSwarmKey(paths.swarmKey)
  const store = await openJobStore({ files: jobLogFiles(paths), logger: logger.child({ component: 'store' }) })
  const closers: Array<() => Promise<void> | void> = [() => store.close()]
  const stopAll = async (): Promise<void> => {
    for (const close of closers.reverse()) {
      await Promise.resolve(close()).catch(err => logger.warn({ err }, 'stop step failed'))
    }
    closers.length = 0
  }
  try {
    const runner = createFfmpegRunner({
      ...config.ffmpeg,
      priority: { nice: config.worker.nice, ioIdle: config.worker.ioIdle },
      logger: logger.child({ component: 'ffmpeg' })
    })
    await checkFfmpeg(runner)
    closers.push(() => runner.killAll())
    await fs.rm(paths.work, { recursive: true, force: true })
    await fs.mkdir(paths.work, { recursive: true, mode: 0o700 })
    const blobs = await createBlobStore({ dir: paths.blobs, tmpDir: paths.tmp })
    const swept = await blobs.sweepTemp()
    const fetched = await createBlobStore({ dir: paths.fetched, tmpDir: paths.tmp })
    const orphans = await sweepOrphans(store, blobs, fetched, logger)
    const mesh: Mesh = config.mesh.enabled
      ? await createLibp2pMesh({
          privateKey,
          swarmKey,
          config: config.mesh,
          name: config.name,
          version: VERSION,
          paths,
          logger: logger.child({ component: 'mesh' }),
          testHooks: init.testHooks
        })
      : createLoneMesh(peerIdFromPrivateKey(privateKey).toString())
    const events = createEventBus()
    const media = init.media?.(runner) ?? createMediaToolkit(runner)
    const disk = createDiskMonitor(
      { logger, events },
      {
        dataDir: paths.root,
        reserve: config.worker.minFreeDisk,
        outputs: () =>
          store
            .jobs()
            .filter(v => v.job.owner === mesh.peerId && !TERMINAL_JOB_STATES.includes(v.job.state))
            .map(v => v.job.outDir),
        spokenFor: () => store.reserveMissing()
      }
    )
    await disk.start()
    closers.push(() => disk.stop())
    const c: JobComponents = {
      config,
      paths,
      store,
      blobs,
      fetched,
      mesh,
      bus: createJobBus(mesh),
      media,
      events,
      disk,
      logger,
      clock: Date.now
    }
    const profiles = profileTable(config.profiles)

    const control = createNodeControl(
      { db: store.area('control'), events, logger, clock: c.clock },
      { schedule: createSchedule(parseSchedule(config.worker.schedule), createWallClock()) }
    )
    await control.start()
    closers.push(() => control.stop())
    // The owner and worker refer to each other through closures, called only after both exist.
    const owner = createOwner(c, {
      localSlotsFree: () => worker.slotsFree(),
      localAcceptsWork: () => control.acceptsWork()
    })
    const hold = createResultHold(c)
    const worker = createWorker(c, {
      version: VERSION,
      acceptLocal: owner.acceptResult,
      deliverRemote: hold.deliver,
      queueLength: () =>
        [...store.inFlight()]
          .filter(v => v.job.owner === mesh.peerId)
          .reduce((n, v) => n + v.units.filter(u => u.state === 'pending').length, 0),
      control
    })
    const handoff = createHandoff(c)
    mesh.serveBlobs(
      async (peer, hash) => (await owner.authorizeBlob(peer, hash)) ?? (await handoff.authorizeBlob(peer, hash))
    )
    mesh.serveResults(owner.acceptResult)
    mesh.serveStatus(createStatusSource({
      store,
      self: mesh.peerId,
      jobStatus: (view) => toJobStatus(view, owner.state, c.clock()),
      running: worker.running,
      controlState: worker.controlState,
      remote: {
        enabled: config.mesh.remoteControl,
        pause: (from, drain) => control.pause({ drain, from }),
        resume: (from) => control.resume({ from })
      }
    }))
    await mesh.start()
    closers.push(() => mesh.stop())
    await owner.start()
    closers.push(() => owner.stop())
    await worker.start()
    closers.push(() => worker.stop())
    // Each job message type goes to the one side that handles it.
    const router = createMessageRouter(c.bus, { ...owner.messages, ...worker.messages, ...handoff.messages })
    await router.start()
    closers.push(() => router.stop())
    hold.start()
    closers.push(() => hold.stop())
    const retention = createRetention(c)
    retention.start()
    closers.push(() => retention.stop())

    const outputs = (): Set<string> => new Set(store.jobs().flatMap(v => v.job.output == null ? [] : [v.job.output]))
    const watches = createWatchManager({
      logger,
      events,
      db: store.textArea('watch'),
      submit: (req) => api.submit(req),
      onJobEnded: (listener) => events.on((e) => {
        if (e.jobId == null || (e.type !== 'job:done' && e.type !== 'job:failed' && e.type !== 'job:cancelled')) return
        const job = store.job(e.jobId)?.job
        if (job != null && TERMINAL_JOB_STATES.includes(job.state)) {
          listener({
            id: job.id,
            state: job.state as 'done' | 'failed' | 'cancelled',
            source: job.source,
            output: job.output
          })
        }
      }),
      isNodeOutput: (file) => outputs().has(file),
      hashFile
    }, { watches: config.watch })
    const fileIndex = createFileIndex(store.textArea(FILE_INDEX_AREA))
    const libraries = createLibraryManager(
      {
        c,
        scanner: createScanner({ c, index: fileIndex, hashFile }),
        store: createLibraryStore(store.textArea('library')),
        profiles
      },
      { libraries: config.libraries }
    )
    let ui: UiServer | null = null
    const api = createNodeApi(c, {
      owner,
      handoff,
      hold,
      watches,
      libraries,
      profiles,
      control,
      controlState: worker.controlState,
      selfNode: () =>
        selfNodeStatus(
          { id: mesh.peerId, name: config.name, version: VERSION, slotsTotal: config.worker.slots, now: c.clock() },
          worker
        ),
      info: () => ({
        id: mesh.peerId,
        name: config.name,
        version: VERSION,
        dataDir: paths.root,
        slots: config.worker.slots,
        addresses: 'multiaddrs' in mesh ? (mesh as { multiaddrs(): string[] }).multiaddrs() : [],
        dashboard: ui?.url() ?? null
      })
    })
    handoff.start((id) => api.getJob(id))
    closers.push(() => handoff.stop())
    await watches.start()
    closers.push(() => watches.stop())
    await libraries.start()
    closers.push(() => libraries.stop())
    const controlServer = createControlServer({
      api,
      socketPath: paths.controlSocket,
      logger: logger.child({ component: 'control' })
    })
    await controlServer.start()
    closers.push(() => controlServer.stop())
    if (config.ui.enabled) {
      // A dashboard that cannot start logs why and leaves the node converting (ui/server.ts).
      const dashboard = createUiServer(
        { api, logger: logger.child({ component: 'ui' }) },
        { listen: config.ui.listen, passwordFile: paths.uiPassword }
      )
      ui = dashboard
      await dashboard.start()
      closers.push(() => dashboard.stop())
    }
    events.emit('node:started', { peerId: mesh.peerId })
    logger.info(
      {
        peerId: mesh.peerId,
        dataDir: paths.root,
        sweptTempFiles: swept,
        removedOrphanBlobs: orphans,
        slots: config.worker.slots
      },
      'node started'
    )
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

/**
 * Blobs the log does not name are leftovers of a crash, removed before any work starts, but only
 * when the log opened intact: a log that lost records may not name blobs that are still needed.
 * Once a log has lost records, only blobs written after that are swept.
 */
async function sweepOrphans (store: JobStore, blobs: BlobStore, fetched: BlobStore, logger: Logger): Promise<number> {
  if (!store.opened.intact) {
    logger.error('the job log was not intact when it opened: no blob was removed at start')
    return 0
  }
  const orphans = await blobs.sweepUnreferenced(referencedBlobs(store), { after: store.opened.damagedAt ?? undefined })
  // No unit is in flight at start-up, so every input fetched for another owner is stale.
  await fetched.sweepUnreferenced(new Set())
  return orphans
}
