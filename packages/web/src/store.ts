import type {
  EventStreamReset,
  JobState,
  LibraryStatus,
  MeshJobCounts,
  MeshJobStatus,
  NodeEvent,
  NodeInfo,
  Profile,
  StatsReport,
  UiSession,
  WatchStatus
} from '@ffmesh/protocol'
import { ApiError, type Api } from './api.js'
import type { Connection } from './live.js'
import { nodeNames, type MeshNodeView } from './mesh-model.js'
import { API, fill } from './routes.js'

/** A job as the page holds it: any job of the mesh, with its owner's name. */
export type JobView = MeshJobStatus

export interface DashboardState {
  session: UiSession
  info: NodeInfo | null
  jobs: Map<string, JobView>
  jobsLoaded: boolean
  /** The listing filled its limit: older jobs (in the state shown) are left out of `jobs`. */
  jobsCapped: boolean
  /** How many jobs the whole mesh holds in each state, past the listing's limit: read while the jobs page shows. */
  counts: MeshJobCounts | null
  /** The mesh's nodes, this one first (`GET /v1/mesh/nodes`). */
  nodes: MeshNodeView[]
  watches: WatchStatus[]
  libraries: LibraryStatus[]
  /** Read while the statistics page is open; null before. */
  stats: StatsReport | null
  profiles: Profile[]
  connection: Connection
  /** Why the last read failed, shown until a read succeeds. */
  loadError: string | null
}

/** Jobs that events touched are read again together, at most this often. */
const FLUSH_MS = 250
/** Beyond this many touched jobs, one listing is cheaper than one request each. */
const MAX_SINGLE_READS = 16
/**
 * Node states (slots, free disk, away) and other owners' jobs are read this often while the page
 * is visible: adverts and other nodes' events do not reach this node's event stream.
 */
const POLL_MS = 3_000
/** The mesh job listing's size: the newest jobs of the whole mesh. */
const MESH_JOBS_LIMIT = 1000
/** Job ends that change the statistics: read again, at most this often, while the page shows them. */
const STATS_EVENTS = new Set(['job:done', 'job:skipped', 'job:failed', 'job:cancelled', 'job:removed'])
const STATS_MS = 1_000

export interface Store {
  readonly state: DashboardState
  /** Peer id → node name. */
  names(): Map<string, string>
  /** Jobs newest first. */
  jobList(): JobView[]
  loadAll(): Promise<void>
  refreshJob(id: string): void
  /**
   * The jobs page shows jobs in this state (null: every state): the listing holds that state only,
   * so older ones past its limit show, and the mesh's counts are read with it. `unwatchJobs` ends both.
   */
  watchJobs(state: JobState | null): void
  unwatchJobs(): void
  /** A page shows this job: it stays in `jobs`, read on its own, when the listing leaves it out. */
  holdJob(id: string): void
  releaseJob(id: string): void
  refreshNodes(): Promise<void>
  refreshWatches(): Promise<void>
  refreshLibraries(): Promise<void>
  /** The statistics page is open (read them now and after each job's end) or closed. */
  watchStats(on: boolean): void
  onEvent(event: NodeEvent): void
  onReset(reset: EventStreamReset): void
  setConnection(state: Connection): void
  /** Runs `redraw` after changes, at most once per animation frame. */
  subscribe(redraw: () => void): () => void
  stop(): void
}

export function createStore (api: Api, session: UiSession): Store {
  const state: DashboardState = {
    session,
    info: null,
    jobs: new Map(),
    jobsLoaded: false,
    jobsCapped: false,
    counts: null,
    nodes: [],
    watches: [],
    libraries: [],
    stats: null,
    profiles: [],
    connection: 'connecting',
    loadError: null
  }
  /** Jobs removed (`job:removed`): a listing read before the removal must not bring them back. Ids are never reused. */
  const removed = new Set<string>()
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
  const read = (reads: Array<Promise<unknown>>): void => {
    Promise.all(reads).then(() => { state.loadError = null; changed() }, failed)
  }

  let jobFilter: JobState | null = null
  /** The jobs page shows: only it shows the counts, which every node is asked for. */
  let countsWanted = false
  /** Jobs pages show (with how many pages hold each). */
  const held = new Map<string, number>()
  async function loadJobs (): Promise<void> {
    const filter = jobFilter
    const [jobs, counts] = await Promise.all([
      api.get<JobView[]>(`${API.meshJobs}?limit=${MESH_JOBS_LIMIT}${filter != null ? `&state=${filter}` : ''}`),
      countsWanted ? api.get<MeshJobCounts>(API.meshJobCounts) : null
    ])
    if (counts != null) state.counts = counts
    // The filter changed while this was read: the read the change started lists the right jobs.
    if (filter !== jobFilter) return
    const listed = new Map(jobs.filter(j => !removed.has(j.id)).map(j => [j.id, j]))
    for (const id of held.keys()) {
      const kept = state.jobs.get(id)
      if (listed.has(id) || kept == null) continue
      listed.set(id, kept)
      store.refreshJob(id)
    }
    state.jobs = listed
    state.jobsCapped = jobs.length >= MESH_JOBS_LIMIT
    state.jobsLoaded = true
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
        // A job that is gone (removed) leaves the list; any other failure is reported.
        const gone = (err: unknown): null => {
          if (err instanceof ApiError && err.code === 'JOB_NOT_FOUND') return null
          throw err
        }
        const jobs = await Promise.all(ids.map(id => api.get<JobView>(fill(API.meshJob, { id })).catch(gone)))
        ids.forEach((id, i) => {
          const job = jobs[i]
          if (job != null && !removed.has(id)) state.jobs.set(id, job)
          else state.jobs.delete(id)
        })
      }
      state.loadError = null
      changed()
    } catch (err) {
      failed(err)
    }
  }

  let statsWanted = false
  let statsTimer: ReturnType<typeof setTimeout> | null = null
  const loadStats = async (): Promise<void> => {
    statsTimer = null
    state.stats = await api.get<StatsReport>(API.stats)
    changed()
  }

  /** Reads of the mesh's nodes: the number of the last one started, and of the one shown. */
  let nodesAsked = 0
  let nodesShown = 0
  let pollTimer: ReturnType<typeof setInterval> | null = setInterval(() => {
    if (document.visibilityState !== 'visible') return
    read([store.refreshNodes(), loadJobs()])
  }, POLL_MS)

  const store: Store = {
    state,
    names () {
      const names = nodeNames(state.nodes)
      for (const job of state.jobs.values()) if (job.ownerName !== '') names.set(job.owner, job.ownerName)
      return names
    },
    jobList: () => [...state.jobs.values()].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
    async loadAll () {
      try {
        const [info, profiles] = await Promise.all([
          api.get<NodeInfo>(API.nodeInfo),
          api.get<Profile[]>(API.profiles),
          loadJobs(),
          store.refreshNodes(),
          store.refreshWatches(),
          store.refreshLibraries(),
          statsWanted ? loadStats() : null
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
    watchJobs (filter) {
      countsWanted = true
      if (filter !== jobFilter) {
        jobFilter = filter
        state.jobsLoaded = false
      }
      read([loadJobs()])
    },
    unwatchJobs () {
      countsWanted = false
      if (jobFilter == null) return
      jobFilter = null
      read([loadJobs()])
    },
    holdJob (id) {
      held.set(id, (held.get(id) ?? 0) + 1)
      if (!state.jobs.has(id)) store.refreshJob(id)
    },
    releaseJob (id) {
      const n = (held.get(id) ?? 0) - 1
      if (n > 0) held.set(id, n)
      else held.delete(id)
    },
    async refreshNodes () {
      const asked = ++nodesAsked
      const nodes = await api.get<MeshNodeView[]>(API.meshNodes)
      // A read that answers after a later one (a poll slower than the read after a pause) would
      // bring back the state the later one replaced.
      if (asked < nodesShown) return
      nodesShown = asked
      state.nodes = nodes
      changed()
    },
    async refreshWatches () {
      state.watches = await api.get<WatchStatus[]>(API.watches)
      changed()
    },
    async refreshLibraries () {
      state.libraries = await api.get<LibraryStatus[]>(API.libraries)
      changed()
    },
    watchStats (on) {
      statsWanted = on
      if (on) read([loadStats()])
    },
    onEvent (event) {
      if (event.type === 'job:removed' && event.jobId != null) {
        removed.add(event.jobId)
        state.jobs.delete(event.jobId)
        changed()
      } else if (
        event.jobId != null &&
        (event.type.startsWith('job:') || event.type.startsWith('unit:') || event.type === 'watch:submitted')
      ) {
        store.refreshJob(event.jobId)
      }
      if (event.type.startsWith('peer:') || event.type.startsWith('node:')) read([store.refreshNodes()])
      if (event.type.startsWith('watch:')) read([store.refreshWatches()])
      if (event.type.startsWith('library:')) read([store.refreshLibraries()])
      if (statsWanted && STATS_EVENTS.has(event.type)) {
        statsTimer ??= setTimeout(() => {
          read([loadStats()])
        }, STATS_MS)
      }
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
      if (statsTimer != null) clearTimeout(statsTimer)
      pollTimer = null
      listeners.clear()
    }
  }
  return store
}
