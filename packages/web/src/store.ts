import type { EventStreamReset, JobStatus, NodeEvent, NodeInfo, PeerStatus, Profile, UiSession, WatchStatus } from '@ffmesh/protocol'
import { ApiError, type Api } from './api.js'
import type { Connection } from './live.js'
import { meshFromPeers, nodeNames, type MeshNodeView } from './mesh-model.js'
import { API, fill, OPTIONAL, optionalPath, type OptionalRoute } from './routes.js'

/** A job as the page holds it; the mesh listing adds who owns it. */
export type JobView = JobStatus & { ownerName?: string, ownerAway?: boolean }

export interface DashboardState {
  session: UiSession
  info: NodeInfo | null
  jobs: Map<string, JobView>
  jobsLoaded: boolean
  peers: PeerStatus[]
  /** From the node's mesh routes, when it has them. */
  meshNodes: MeshNodeView[] | null
  watches: WatchStatus[]
  profiles: Profile[]
  connection: Connection
  /** Why the last read failed, shown until a read succeeds. */
  loadError: string | null
}

/** Jobs that events touched are read again together, at most this often. */
const FLUSH_MS = 250
/** Beyond this many touched jobs, one listing is cheaper than one request each. */
const MAX_SINGLE_READS = 16
/** Node states (slots, free disk, away) are read this often while the page is visible: adverts are not events of this node. */
const POLL_MS = 3_000
/** The mesh job listing's size: the newest jobs of the whole mesh. */
const MESH_JOBS_LIMIT = 1000

export interface Store {
  readonly state: DashboardState
  has(route: OptionalRoute): boolean
  /** The mesh's nodes, this one first. */
  nodes(): MeshNodeView[]
  /** Peer id → node name. */
  names(): Map<string, string>
  /** Jobs newest first. */
  jobList(): JobView[]
  loadAll(): Promise<void>
  refreshJob(id: string): void
  refreshWatches(): Promise<void>
  onEvent(event: NodeEvent): void
  onReset(reset: EventStreamReset): void
  setConnection(state: Connection): void
  /** Runs `redraw` after changes, at most once per animation frame. */
  subscribe(redraw: () => void): () => void
  stop(): void
}

export function createStore (api: Api, session: UiSession): Store {
  const state: DashboardState = { session, info: null, jobs: new Map(), jobsLoaded: false, peers: [], meshNodes: null, watches: [], profiles: [], connection: 'connecting', loadError: null }
  const routes = new Set(session.routes)
  const has = (route: OptionalRoute): boolean => routes.has(OPTIONAL[route])
  const listeners = new Set<() => void>()
  let frame = 0
  const changed = (): void => {
    if (frame !== 0) return
    frame = requestAnimationFrame(() => {
      frame = 0
      for (const l of listeners) l()
    })
  }
  const failed = (err: unknown): void => {
    state.loadError = err instanceof Error ? err.message : String(err)
    changed()
  }

  async function loadJobs (): Promise<void> {
    const jobs = has('meshJobs')
      ? await api.get<JobView[]>(`${optionalPath('meshJobs')}?limit=${MESH_JOBS_LIMIT}`)
      : await api.get<JobView[]>(API.listJobs)
    state.jobs = new Map(jobs.map(j => [j.id, j]))
    state.jobsLoaded = true
  }

  async function loadNodes (): Promise<void> {
    if (has('meshNodes')) state.meshNodes = await api.get<MeshNodeView[]>(optionalPath('meshNodes'))
    else state.peers = await api.get<PeerStatus[]>(API.peers)
  }

  const dirty = new Set<string>()
  let flushTimer: ReturnType<typeof setTimeout> | null = null
  async function flush (): Promise<void> {
    flushTimer = null
    const ids = [...dirty]
    dirty.clear()
    try {
      if (ids.length > MAX_SINGLE_READS) {
        await loadJobs()
      } else {
        const path = has('meshJob') ? optionalPath('meshJob') : API.getJob
        // A job that is gone (removed) leaves the list; any other failure is reported.
        const gone = (err: unknown): null => { if (err instanceof ApiError && err.code === 'JOB_NOT_FOUND') return null; throw err }
        const jobs = await Promise.all(ids.map(id => api.get<JobView>(fill(path, { id })).catch(gone)))
        ids.forEach((id, i) => {
          const job = jobs[i]
          if (job != null) state.jobs.set(id, job)
          else state.jobs.delete(id)
        })
      }
      state.loadError = null
      changed()
    } catch (err) {
      failed(err)
    }
  }

  let pollTimer: ReturnType<typeof setInterval> | null = setInterval(() => {
    if (document.visibilityState !== 'visible') return
    const reads: Array<Promise<void>> = [loadNodes()]
    if (has('meshJobs')) reads.push(loadJobs())
    Promise.all(reads).then(() => { state.loadError = null; changed() }, failed)
  }, POLL_MS)

  const store: Store = {
    state,
    has,
    nodes () {
      if (state.meshNodes != null) return state.meshNodes
      return state.info == null ? [] : meshFromPeers(state.info, state.peers, state.jobs.values(), Date.now())
    },
    names () {
      const names = nodeNames(store.nodes())
      for (const job of state.jobs.values()) if (job.ownerName != null) names.set(job.owner, job.ownerName)
      return names
    },
    jobList: () => [...state.jobs.values()].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
    async loadAll () {
      try {
        const [info, profiles] = await Promise.all([
          api.get<NodeInfo>(API.nodeInfo),
          api.get<Profile[]>(API.profiles),
          loadJobs(),
          loadNodes(),
          store.refreshWatches()
        ])
        state.info = info
        state.profiles = profiles
        state.loadError = null
      } catch (err) {
        failed(err)
      }
      changed()
    },
    refreshJob (id) {
      dirty.add(id)
      flushTimer ??= setTimeout(() => { void flush() }, FLUSH_MS)
    },
    async refreshWatches () {
      state.watches = await api.get<WatchStatus[]>(API.watches)
      changed()
    },
    onEvent (event) {
      if (event.jobId != null && (event.type.startsWith('job:') || event.type.startsWith('unit:') || event.type === 'watch:submitted')) store.refreshJob(event.jobId)
      if (event.type.startsWith('peer:') || event.type.startsWith('node:')) loadNodes().then(changed, failed)
      if (event.type.startsWith('watch:')) store.refreshWatches().catch(failed)
    },
    onReset () {
      void store.loadAll()
    },
    setConnection (connection) {
      state.connection = connection
      changed()
    },
    subscribe (redraw) {
      listeners.add(redraw)
      return () => { listeners.delete(redraw) }
    },
    stop () {
      if (pollTimer != null) clearInterval(pollTimer)
      if (flushTimer != null) clearTimeout(flushTimer)
      pollTimer = null
      listeners.clear()
    }
  }
  return store
}
