import path from 'node:path'
import { ErrorCodes, FfmeshError, MAX_NAME_LENGTH } from '@ffmesh/protocol'
import { z } from 'zod'
import { WatchSchema } from '../config/schema.js'
import type { NodeApi } from './api.js'

/** Paths cross the socket from a CLI on the same machine; it resolves them, the node insists. */
const absolutePath = z.string().min(1).max(4096).refine(p => path.isAbsolute(p), 'must be an absolute path')

export const SubmitBodySchema = z.strictObject({
  source: absolutePath,
  profile: z.string().min(1).max(MAX_NAME_LENGTH),
  outDir: absolutePath.optional(),
  handoff: z.boolean().optional()
})
export const FetchBodySchema = z.strictObject({ outDir: absolutePath.optional() })
export const RemoveWatchBodySchema = z.strictObject({ path: absolutePath })
const EmptyBodySchema = z.strictObject({})

export interface RouteResult { status: number, body: unknown }

export interface Route {
  method: 'GET' | 'POST' | 'DELETE'
  pattern: RegExp
  /** Without a schema the route takes no body. */
  schema?: z.ZodType
  handle(api: NodeApi, params: string[], body: unknown, signal: AbortSignal): Promise<RouteResult> | RouteResult
}

const ok = (body: unknown): RouteResult => ({ status: 200, body })
const JOB = '([^/]+)'

/** `GET /v1/events` is served by event-stream.ts; everything else is a JSON request and reply. */
export const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/v1\/node$/, handle: api => ok(api.info()) },
  {
    method: 'POST',
    pattern: /^\/v1\/jobs$/,
    schema: SubmitBodySchema,
    handle: async (api, _p, body, signal) => ({ status: 201, body: await api.submit(body as z.infer<typeof SubmitBodySchema>, { signal }) })
  },
  { method: 'GET', pattern: /^\/v1\/jobs$/, handle: api => ok(api.listJobs()) },
  { method: 'GET', pattern: new RegExp(`^/v1/jobs/${JOB}$`), handle: (api, [id]) => ok(api.getJob(id)) },
  { method: 'DELETE', pattern: new RegExp(`^/v1/jobs/${JOB}$`), handle: async (api, [id]) => ok(await api.remove(id)) },
  { method: 'POST', pattern: new RegExp(`^/v1/jobs/${JOB}/cancel$`), schema: EmptyBodySchema, handle: async (api, [id]) => ok(await api.cancel(id)) },
  { method: 'POST', pattern: new RegExp(`^/v1/jobs/${JOB}/retry$`), schema: EmptyBodySchema, handle: async (api, [id]) => ok(await api.retry(id)) },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/jobs/${JOB}/fetch$`),
    schema: FetchBodySchema,
    handle: async (api, [id], body, signal) => ok(await api.fetchOutput(id, (body as z.infer<typeof FetchBodySchema>).outDir, { signal }))
  },
  { method: 'GET', pattern: /^\/v1\/peers$/, handle: api => ok(api.peers()) },
  { method: 'GET', pattern: /^\/v1\/profiles$/, handle: api => ok(api.profiles()) },
  { method: 'GET', pattern: /^\/v1\/watches$/, handle: api => ok(api.watches()) },
  {
    method: 'POST',
    pattern: /^\/v1\/watches$/,
    schema: WatchSchema,
    handle: async (api, _p, body) => ({ status: 201, body: await api.addWatch(body as z.infer<typeof WatchSchema>) })
  },
  {
    method: 'DELETE',
    pattern: /^\/v1\/watches$/,
    schema: RemoveWatchBodySchema,
    handle: async (api, _p, body) => {
      await api.removeWatch((body as z.infer<typeof RemoveWatchBodySchema>).path)
      return ok({ removed: (body as z.infer<typeof RemoveWatchBodySchema>).path })
    }
  }
]

export function matchRoute (method: string, pathname: string): { route: Route, params: string[] } | { allowed: string[] } {
  const allowed: string[] = []
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname)
    if (m == null) continue
    if (route.method === method) return { route, params: m.slice(1).map(decodeURIComponent) }
    allowed.push(route.method)
  }
  return { allowed }
}

export function parseBody (route: Route, body: unknown): unknown {
  if (route.schema == null) return undefined
  const result = route.schema.safeParse(body)
  if (result.success) return result.data
  const problems = result.error.issues.map(i => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`)
  throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `invalid request: ${problems.join('; ')}`)
}
