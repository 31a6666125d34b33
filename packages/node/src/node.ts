import fs from 'node:fs/promises'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { MeshNodeStatus } from '@ffmesh/protocol'
import { loadConfig } from './config/load.js'
import { dataPaths, jobLogFiles } from './config/paths.js'
import { readIdentity, readSwarmKey } from './config/secrets.js'
import type { NodeApi } from './control/api.js'
import { createControlServer } from './control/server.js'
import { createEventBus } from './events.js'
import { assertDataDirPrivate } from './config/data-dir-security.js'
import { referencedBlobs } from './jobs/owner/cleanup.js'
import { createArrivingWork } from './jobs/shared/arriving-work.js'
import { createDiskMonitor } from './jobs/shared/disk-monitor.js'
import { createRetention } from './jobs/owner/retention.js'
import { createHandoff } from './jobs/handoff/handoff.js'
import { createResultHold } from './jobs/worker/held-results.js'
import { createJobBus } from './jobs/shared/job-bus.js'
import { createMessageRouter } from './jobs/shared/message-router.js'
import { isPending } from './jobs/shared/unit-lease.js'
import type { JobComponents } from './jobs/shared/deps.js'
import { createNodeControl } from './jobs/worker/node-control.js'
import { createOwner } from './jobs/owner/owner.js'
import { createSchedule, parseSchedule } from './jobs/worker/schedule.js'
import { createJobStatus } from './jobs/owner/status.js'
import { createSubmit } from './jobs/owner/intake.js'
import type { Mirrors } from './jobs/handoff/mirrors.js'
import { createSlots } from './jobs/worker/slots.js'
import { asComponent, createComponentStack } from './lifecycle.js'
import { createNodeInfo } from './node-info.js'
import { createMeshView } from './status/mesh-view.js'
import { newestIdFirst } from './status/status-pages.js'
import { createWallClock } from './jobs/worker/wall-clock.js'
import { createWorker } from './jobs/worker/worker.js'
import { createLogger, type Logger } from './logger.js'
import { checkFfmpeg, createFfmpegRunner } from './media/index.js'
import { createMediaToolkit, type MediaToolkit } from './media/toolkit.js'
import { createLibp2pMesh, createLoneMesh, type Libp2pMesh, type Mesh, type MeshStats } from './mesh/index.js'
import { createNodeApi, profileTable } from './node-api.js'
import { createBlobStore, type BlobStore } from './store/blob-store.js'
import { hashFile } from './store/hash.js'
import { openJobStore, type JobStore } from './store/job-store.js'
import { countOwned } from './status/job-counts.js'
import { createStatusSource } from './status/status-source.js'
import { selfNodeStatus } from './status/self-node.js'
import { VERSION } from './version.js'
import { createUiServer } from './ui/index.js'
import { createWatchManager } from './watch/index.js'
import { endedJobs } from './watch/ended-jobs.js'
import { createFileIndex, FILE_INDEX_AREA } from './library/file-index.js'
import { createLibraryManager } from './library/library-manager.js'
import { createLibraryStore } from './library/library-store.js'
import { createScanner } from './library/scanner.js'

export interface RunningNode {
  api: NodeApi
  peerId: string
  /** Gossip and transfer counters of the mesh (null with mesh.enabled false), for benches and tests. */
  meshStats(): MeshStats | null
  /**
   * Handlers still registered on the node's shared emitters: its event bus, its job bus and its
   * mesh (null with mesh.enabled false). Every one is removed on stop; tests check that it is.
   */
  listeners(): { events: number, jobBus: number, mesh: number | null }
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
 * node off this data dir), then builds each part from the parts before it and starts it: the
 * disk monitor and node control, the mesh, the owner and worker sides, the message router,
 * watched folders and libraries, and the control API and dashboard last. Stopping goes in reverse
 * (docs/architecture.md, "Lifecycle and composition").
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
  const stack = createComponentStack()
  const stopAll = async (): Promise<void> => {
    await stack.stop((name, err) => logger.warn({ err, component: name }, 'stop step failed'))
  }
  try {
    await stack.start('job log', asComponent({ stop: () => store.close() }))
    const runner = createFfmpegRunner({
      ...config.ffmpeg,
      priority: { nice: config.worker.nice, ioIdle: config.worker.ioIdle },
      logger: logger.child({ component: 'ffmpeg' })
    })
    await checkFfmpeg(runner)
    await stack.start('ffmpeg', asComponent({ stop: () => runner.killAll() }))
    await fs.rm(paths.work, { recursive: true, force: true })
    await fs.mkdir(paths.work, { recursive: true, mode: 0o700 })
    const blobs = await createBlobStore({ dir: paths.blobs, tmpDir: paths.tmp })
    const swept = await blobs.sweepTemp()
    // Inputs fetched for another owner's units: scratch, emptied below at every start.
    const fetched = await createBlobStore({ dir: paths.fetched, tmpDir: paths.tmp, durable: false })
    const orphans = await sweepOrphans(store, blobs, fetched, logger)
    const libp2pMesh: Libp2pMesh | null = config.mesh.enabled
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
      : null
    const mesh: Mesh = libp2pMesh ?? createLoneMesh(peerIdFromPrivateKey(privateKey).toString())
    const events = createEventBus()
    const media = init.media?.(runner) ?? createMediaToolkit(runner)
    const disk = await stack.start('disk monitor', createDiskMonitor(
      { logger, events },
      {
        dataDir: paths.root,
        reserve: config.worker.minFreeDisk,
        // Sampled every 2 s: the unfinished index, not a sorted copy of every job the node has kept.
        outputs: () => [...store.unfinished()].filter(v => v.job.owner === mesh.peerId).map(v => v.job.outDir),
        spokenFor: () => store.reserveMissing()
      }
    ))
    const bus = createJobBus(mesh)
    const clock = Date.now
    const arriving = createArrivingWork(clock)
    const c: JobComponents = {
      config, paths, store, blobs, fetched, mesh, bus, media, events, disk, arriving, logger, clock
    }
    const profiles = profileTable(config.profiles)

    const control = await stack.start('node control', createNodeControl(
      { db: store.area('control'), events, logger, clock: c.clock },
      { schedule: createSchedule(parseSchedule(config.worker.schedule), createWallClock()) }
    ))
    // The worker's slots exist before both sides: the owner reads them, the worker takes them.
    const slots = createSlots(config.worker.slots)
    const owner = createOwner(c, {
      localSlotsFree: () => slots.free,
      localAcceptsWork: () => control.acceptsWork()
    })
    const hold = createResultHold(c)
    const worker = createWorker(c, {
      version: VERSION,
      slots,
      acceptLocal: owner.acceptResult,
      deliverRemote: hold.deliver,
      queueLength: () =>
        [...store.inFlight()]
          .filter(v => v.job.owner === mesh.peerId)
          .reduce((n, v) => n + v.units.filter(isPending).length, 0),
      control
    })
    const mirrors: Mirrors = new Map()
    const status = createJobStatus({ store, disk, clock: c.clock, self: mesh.peerId, owner, mirrors })
    const handoff = createHandoff(c, { status: status.ofView, mirrors })
    mesh.serveBlobs(
      async (peer, hash) => (await owner.authorizeBlob(peer, hash)) ?? (await handoff.authorizeBlob(peer, hash))
    )
    mesh.serveResults(owner.acceptResult, owner.screenResult)
    mesh.serveStatus(createStatusSource({
      store,
      self: mesh.peerId,
      jobStatus: status.ofView,
      running: worker.running,
      controlState: worker.controlState,
      remote: {
        enabled: config.mesh.remoteControl,
        pause: (from, drain) => control.pause({ drain, from }),
        resume: (from) => control.resume({ from })
      }
    }))
    await stack.start('mesh', mesh)
    await stack.start('owner', owner)
    await stack.start('worker', worker)
    const selfNode = (): MeshNodeStatus => selfNodeStatus(
      { id: mesh.peerId, name: config.name, version: VERSION, slotsTotal: config.worker.slots, now: c.clock() },
      worker
    )
    const meshView = createMeshView({
      mesh,
      logger,
      clock: c.clock,
      selfNode,
      localJobs: (query) => store.jobs().filter(v => query.state == null || v.job.state === query.state)
        .sort((a, b) => newestIdFirst(a.job.id, b.job.id)).slice(0, query.limit).map(status.ofView),
      localJob: (id) => {
        const view = store.job(id)
        return view == null ? undefined : status.ofView(view)
      },
      localCounts: () => countOwned(store.jobs(), mesh.peerId)
    })
    // Each job message type goes to the one side that handles it; an offer also tells the mesh
    // view who owns its job.
    const router = createMessageRouter(bus, {
      ...owner.messages,
      ...worker.messages,
      ...handoff.messages,
      offer: (m, from) => {
        meshView.noteOffer(m, from)
        worker.messages.offer(m, from)
      }
    })
    await stack.start('job bus', bus)
    await stack.start('router', router)
    await stack.start('result hold', hold)
    await stack.start('retention', asComponent(createRetention(c)))
    await stack.start('handoff', handoff)

    const submit = createSubmit(c, profiles)
    const watches = createWatchManager({
      logger,
      events,
      db: store.textArea('watch'),
      submit,
      onJobEnded: endedJobs(events, store),
      isNodeOutput: (file) => store.hasOutput(file),
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
    const nodeInfo = createNodeInfo({
      id: mesh.peerId,
      name: config.name,
      version: VERSION,
      dataDir: paths.root,
      slots: config.worker.slots,
      addresses: () => libp2pMesh?.multiaddrs() ?? []
    })
    const api = createNodeApi(c, {
      owner,
      handoff,
      hold,
      watches,
      libraries,
      profiles,
      control,
      submit,
      status,
      meshView,
      controlState: worker.controlState,
      info: nodeInfo.info
    })
    await stack.start('watches', watches)
    await stack.start('libraries', libraries)
    await stack.start('control server', createControlServer({
      api,
      socketPath: paths.controlSocket,
      logger: logger.child({ component: 'control' })
    }))
    if (config.ui.enabled) {
      // A dashboard that cannot start logs why and leaves the node converting (ui/server.ts).
      const dashboard = await stack.start('dashboard', createUiServer(
        { api, logger: logger.child({ component: 'ui' }) },
        { listen: config.ui.listen, passwordFile: paths.uiPassword }
      ))
      nodeInfo.setDashboard(dashboard.url())
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
      meshStats: () => libp2pMesh?.stats() ?? null,
      listeners: () => ({
        events: events.listenerCount(),
        jobBus: bus.listenerCount(),
        mesh: libp2pMesh?.listenerCount() ?? null
      }),
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
  // No unit is in flight at start-up, so every input fetched for another owner is stale. The log
  // names none of them, so this holds whatever state it opened in; and as that store is not
  // synced (durable: false), a crash may have left one torn: it must never be read again.
  await fetched.sweepUnreferenced(new Set())
  if (!store.opened.intact) {
    logger.error('the job log was not intact when it opened: no stored blob was removed at start')
    return 0
  }
  return await blobs.sweepUnreferenced(referencedBlobs(store), { after: store.opened.damagedAt ?? undefined })
}
