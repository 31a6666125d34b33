import type { ControlRoutes, CSRF_HEADER, UiRoutes } from '@ffmesh/protocol'

/**
 * The paths the page calls. The protocol's route table cannot be imported at run time (it needs
 * zod), so the paths are written here and checked against its types: a route renamed in the
 * protocol fails this file's compile.
 */
type PathOf<T extends Record<string, { path: string }>, K extends keyof T> = T[K]['path']
type Used =
  | 'nodeInfo'
  | 'submit'
  | 'removeJob'
  | 'cancelJob'
  | 'retryJob'
  | 'profiles'
  | 'watches'
  | 'addWatch'
  | 'removeWatch'
  | 'meshNodes'
  | 'meshJobs'
  | 'meshJobCounts'
  | 'meshJob'
  | 'pause'
  | 'resume'
  | 'pauseNode'
  | 'resumeNode'
  | 'libraries'
  | 'addLibrary'
  | 'removeLibrary'
  | 'scan'
  | 'stats'
  | 'events'

/** The page and the node ship together (the node serves the page): every route here is there. */
export const API = {
  nodeInfo: '/v1/node',
  submit: '/v1/jobs',
  removeJob: '/v1/jobs/:id',
  cancelJob: '/v1/jobs/:id/cancel',
  retryJob: '/v1/jobs/:id/retry',
  profiles: '/v1/profiles',
  watches: '/v1/watches',
  addWatch: '/v1/watches',
  removeWatch: '/v1/watches',
  meshNodes: '/v1/mesh/nodes',
  meshJobs: '/v1/mesh/jobs',
  meshJobCounts: '/v1/mesh/job-counts',
  meshJob: '/v1/mesh/jobs/:id',
  pause: '/v1/node/pause',
  resume: '/v1/node/resume',
  pauseNode: '/v1/mesh/nodes/:id/pause',
  resumeNode: '/v1/mesh/nodes/:id/resume',
  libraries: '/v1/libraries',
  addLibrary: '/v1/libraries',
  removeLibrary: '/v1/libraries',
  scan: '/v1/scan',
  stats: '/v1/stats',
  events: '/v1/events'
} as const satisfies { [K in Used]: PathOf<typeof ControlRoutes, K> }

/** The header the session's CSRF token goes in (checked against the protocol's constant). */
export const CSRF: typeof CSRF_HEADER = 'x-ffmesh-csrf'

export const UI = {
  session: '/ui/session',
  login: '/ui/login',
  logout: '/ui/logout'
} as const satisfies { [K in keyof typeof UiRoutes]: PathOf<typeof UiRoutes, K> }

/** `/v1/jobs/:id` with `{ id }`, each parameter percent-encoded. */
export function fill (path: string, params: Record<string, string>): string {
  return path.replace(/:([a-z]+)/gi, (_, name: string) => encodeURIComponent(params[name] ?? ''))
}
