import type { ControlRoutes, CSRF_HEADER, UiRoutes } from '@ffmesh/protocol'

/**
 * The paths the page calls. The protocol's route table cannot be imported at run time (it needs
 * zod), so the paths are written here and checked against its types: a route renamed in the
 * protocol fails this file's compile.
 */
type PathOf<T extends Record<string, { path: string }>, K extends keyof T> = T[K]['path']
type Used = 'nodeInfo' | 'submit' | 'listJobs' | 'getJob' | 'cancelJob' | 'retryJob' | 'peers' | 'profiles' | 'watches' | 'addWatch' | 'removeWatch' | 'events'

export const API = {
  nodeInfo: '/v1/node',
  submit: '/v1/jobs',
  listJobs: '/v1/jobs',
  getJob: '/v1/jobs/:id',
  cancelJob: '/v1/jobs/:id/cancel',
  retryJob: '/v1/jobs/:id/retry',
  peers: '/v1/peers',
  profiles: '/v1/profiles',
  watches: '/v1/watches',
  addWatch: '/v1/watches',
  removeWatch: '/v1/watches',
  events: '/v1/events'
} as const satisfies { [K in Used]: PathOf<typeof ControlRoutes, K> }

/** The header the session's CSRF token goes in (checked against the protocol's constant). */
export const CSRF: typeof CSRF_HEADER = 'x-ffmesh-csrf'

export const UI = {
  session: '/ui/session',
  login: '/ui/login',
  logout: '/ui/logout'
} as const satisfies { [K in keyof typeof UiRoutes]: PathOf<typeof UiRoutes, K> }

/**
 * Routes a node may or may not answer, by `METHOD /path` as /ui/session lists them: the mesh-wide
 * views, pausing a node, removing a job. The page offers what the node it talks to has.
 */
export const OPTIONAL = {
  meshNodes: 'GET /v1/mesh/nodes',
  meshJobs: 'GET /v1/mesh/jobs',
  meshJob: 'GET /v1/mesh/jobs/:id',
  pause: 'POST /v1/node/pause',
  resume: 'POST /v1/node/resume',
  removeJob: 'DELETE /v1/jobs/:id'
} as const

export type OptionalRoute = keyof typeof OPTIONAL

/** The path of an optional route (`GET /v1/mesh/jobs/:id` → `/v1/mesh/jobs/:id`). */
export function optionalPath (name: OptionalRoute): string {
  return OPTIONAL[name].slice(OPTIONAL[name].indexOf(' ') + 1)
}

/** `/v1/jobs/:id` with `{ id }`, each parameter percent-encoded. */
export function fill (path: string, params: Record<string, string>): string {
  return path.replace(/:([a-z]+)/gi, (_, name: string) => encodeURIComponent(params[name] ?? ''))
}
