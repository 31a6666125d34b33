import {
  ControlRoutes,
  ErrorCodes,
  FfmeshError,
  matchRoutePath,
  type ControlReplies,
  type RouteName,
  type RouteSpec
} from '@ffmesh/protocol'
import type { z } from 'zod'
import type { NodeApi } from './api.js'

export interface RouteResult<R extends RouteName = RouteName> { status: number, body: ControlReplies[R] }

/** What a handler gets: the route's parameters, its body and query parsed by their schemas. */
export interface RouteRequest<R extends RouteName> {
  params: Record<string, string>
  body: (typeof ControlRoutes)[R] extends { body: z.ZodType } ? z.output<(typeof ControlRoutes)[R]['body']> : undefined
  query: (typeof ControlRoutes)[R] extends { query: z.ZodType }
    ? z.output<(typeof ControlRoutes)[R]['query']>
    : undefined
  signal: AbortSignal
}

type Handler<R extends RouteName> = (api: NodeApi, req: RouteRequest<R>) => Promise<RouteResult<R>> | RouteResult<R>

const ok = <T>(body: T): { status: number, body: T } => ({ status: 200, body })

/**
 * One handler per route of the protocol's table (`events` is the server-sent event stream, served
 * by event-stream.ts). A route missing here is a type error.
 */
export const HANDLERS: { [R in Exclude<RouteName, 'events'>]: Handler<R> } = {
  nodeInfo: api => ok(api.info()),
  submit: async (api, { body, signal }) => ({ status: 201, body: await api.submit(body, { signal }) }),
  listJobs: (api, { query }) => ok(api.listJobs(query)),
  jobSummary: (api, { query }) => ok(api.jobSummary(query.batch)),
  getJob: (api, { params }) => ok(api.getJob(params.id as string)),
  removeJob: async (api, { params }) => ok(await api.remove(params.id as string)),
  cancelJob: async (api, { params }) => ok(await api.cancel(params.id as string)),
  retryJob: async (api, { params }) => ok(await api.retry(params.id as string)),
  fetchOutput: async (api, { params, body, signal }) =>
    ok(await api.fetchOutput(params.id as string, body.outDir, { signal })),
  peers: api => ok(api.peers()),
  profiles: api => ok(api.profiles()),
  watches: api => ok(api.watches()),
  addWatch: async (api, { body }) => ({ status: 201, body: await api.addWatch(body) }),
  removeWatch: async (api, { body }) => {
    await api.removeWatch(body.path)
    return ok({ removed: body.path })
  },
  meshNodes: async (api, { signal }) => ok(await api.meshNodes({ signal })),
  meshJobs: async (api, { query, signal }) => ok(await api.meshJobs(query, { signal })),
  meshJob: async (api, { params, signal }) => ok(await api.meshJob(params.id as string, { signal })),
  meshJobCounts: async (api, { signal }) => ok(await api.meshJobCounts({ signal })),
  pause: async (api, { body, signal }) => ok(await api.pause(body, { signal })),
  resume: async (api, { signal }) => ok(await api.resume({ signal })),
  pauseNode: async (api, { params, body, signal }) => ok(await api.pauseNode(params.id as string, body, { signal })),
  resumeNode: async (api, { params, signal }) => ok(await api.resumeNode(params.id as string, { signal })),
  libraries: api => ok(api.libraries()),
  addLibrary: async (api, { body }) => ({ status: 201, body: await api.addLibrary(body) }),
  removeLibrary: async (api, { body }) => {
    await api.removeLibrary(body.path)
    return ok({ removed: body.path })
  },
  scan: async (api, { body, signal }) => ok(await api.scan(body, { signal })),
  stats: api => ok(api.stats())
}

export type MatchedRoute = { name: RouteName, route: RouteSpec, params: Record<string, string> }

/** The route for a method and path, or the methods the path allows (none: no such route). */
export function matchRoute (method: string, pathname: string): MatchedRoute | { allowed: string[] } {
  const allowed: string[] = []
  for (const [name, route] of Object.entries(ControlRoutes) as Array<[RouteName, RouteSpec]>) {
    const params = matchRoutePath(route.path, pathname)
    if (params == null) continue
    if (route.method === method) return { name, route, params }
    allowed.push(route.method)
  }
  return { allowed }
}

/** Parses a body or query against its schema; a mismatch is BAD_ARGUMENTS naming every problem. */
export function parseWith (schema: z.ZodType | undefined, value: unknown, what: 'request' | 'query'): unknown {
  if (schema == null) return undefined
  const result = schema.safeParse(value)
  if (result.success) return result.data
  // A problem with the whole query needs no label beside "invalid query"; one with the whole body is "body".
  const where = (path: PropertyKey[]): string =>
    path.length > 0 ? `${path.join('.')}: ` : what === 'query' ? '' : 'body: '
  const problems = result.error.issues.map(i => `${where(i.path)}${i.message}`)
  throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `invalid ${what}: ${problems.join('; ')}`)
}

/**
 * Parses a route's query string. A route without a query schema takes no parameters and refuses
 * any, as a schema refuses a key it does not know: a misspelt option is an error, not a no-op.
 * `allowed` names the parameters such a route reads by hand (the event stream's lastEventId).
 */
export function parseQuery (
  schema: z.ZodType | undefined,
  params: URLSearchParams,
  pathname: string,
  allowed: readonly string[] = []
): unknown {
  if (schema != null) return parseWith(schema, Object.fromEntries(params), 'query')
  const unknown = [...new Set(params.keys())].filter(k => !allowed.includes(k))
  if (unknown.length > 0) {
    const takes = allowed.length > 0 ? `only ${allowed.join(', ')}` : 'no query parameters'
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      `${pathname} takes ${takes}; remove ${unknown.map(k => `"${k}"`).join(', ')}`
    )
  }
  return undefined
}

/** Runs the handler of a matched route. */
export async function handleRoute (
  api: NodeApi,
  match: MatchedRoute,
  body: unknown,
  query: unknown,
  signal: AbortSignal
): Promise<RouteResult> {
  const handler = HANDLERS[match.name as Exclude<RouteName, 'events'>] as Handler<RouteName>
  return await handler(api, { params: match.params, body: body as never, query: query as never, signal })
}
