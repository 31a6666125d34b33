import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'

/** Where every asset is served: `/assets/<build hash>/main.js`. */
export const ASSETS_PREFIX = '/assets/'
/** Asset URLs change with their content, so a browser may keep them a year without asking. */
const IMMUTABLE = 'public, max-age=31536000, immutable'
/** Files the page cannot start without; any missing means the web package was not built. */
const REQUIRED = ['main.js', 'app.css', 'error-advice.json']
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml'
}
/** Smaller files gain nothing from gzip. */
const GZIP_MIN_BYTES = 1024

interface Asset { type: string, body: Buffer, gzip: Buffer | null, etag: string }

export interface Assets {
  /** A hash of every file: the URL prefix changes whenever any file does. */
  readonly build: string
  readonly count: number
  /** Answers GET /assets/<build>/<file>; false when the path is not an asset. */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): boolean
  /** The page shell: no inline script or style, the rest is fetched from /assets. */
  serveIndex(req: IncomingMessage, res: ServerResponse): void
}

/** The built web package: `@ffmesh/web`'s dist folder. */
export function defaultAssetsDir (): string {
  const pkg = createRequire(import.meta.url).resolve('@ffmesh/web/package.json')
  return path.join(path.dirname(pkg), 'dist')
}

async function listFiles (dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, prefix), { withFileTypes: true })
  const out: string[] = []
  for (const e of entries) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`
    // Type declarations are for other packages' compilers, not for browsers.
    if (e.isDirectory() && rel !== 'types') out.push(...await listFiles(dir, rel))
    else if (e.isFile() && TYPES[path.extname(e.name)] != null) out.push(rel)
  }
  return out
}

/** Reads the built assets once, at start; the node serves them from memory. */
export async function loadAssets (dir: string, options: { signal?: AbortSignal } = {}): Promise<Assets> {
  let names: string[]
  try {
    names = (await listFiles(dir)).sort()
  } catch {
    names = []
  }
  const missing = REQUIRED.filter(r => !names.includes(r))
  if (missing.length > 0) {
    throw new FfmeshError(
      ErrorCodes.UI_ASSETS_MISSING,
      `the dashboard's files are missing from ${dir} (${missing.join(', ')}); build the project with \`npm run build\``
    )
  }
  const files = new Map<string, Asset>()
  const all = createHash('sha256')
  for (const name of names) {
    const body = await readFile(path.join(dir, name), { signal: options.signal })
    const digest = createHash('sha256').update(body).digest('base64url')
    all.update(name).update('\0').update(digest)
    files.set(name, {
      type: TYPES[path.extname(name)] as string,
      body,
      gzip: body.length >= GZIP_MIN_BYTES ? gzipSync(body) : null,
      etag: `"${digest.slice(0, 22)}"`
    })
  }
  const build = all.digest('base64url').slice(0, 12)
  const index = Buffer.from(indexHtml(build, names.filter(n => n.endsWith('.js') && n !== 'main.js')))
  const indexEtag = `"${createHash('sha256').update(index).digest('base64url').slice(0, 22)}"`

  function send (req: IncomingMessage, res: ServerResponse, asset: Asset, cache: string): void {
    res.setHeader('cache-control', cache)
    res.setHeader('etag', asset.etag)
    res.setHeader('vary', 'accept-encoding')
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304)
      res.end()
      return
    }
    const gzip = asset.gzip != null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
    const body = gzip ? asset.gzip as Buffer : asset.body
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': body.length,
      ...(gzip ? { 'content-encoding': 'gzip' } : {})
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  return {
    build,
    count: files.size,
    serve (req, res, pathname) {
      const prefix = `${ASSETS_PREFIX}${build}/`
      if (!pathname.startsWith(prefix)) return false
      // Names come from the map built at start, never from the path: nothing else can be read.
      const asset = files.get(pathname.slice(prefix.length))
      if (asset == null) return false
      send(req, res, asset, IMMUTABLE)
      return true
    },
    serveIndex (req, res) {
      // The shell names the current build, so it is checked each time (a 304 when unchanged).
      send(req, res, { type: 'text/html; charset=utf-8', body: index, gzip: null, etag: indexEtag }, 'no-cache')
    }
  }
}

/**
 * The modules main.js imports are listed for preloading: the browser fetches them all at once
 * instead of discovering them one import level at a time.
 */
function indexHtml (build: string, modules: string[]): string {
  const base = `${ASSETS_PREFIX}${build}`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>ffmesh</title>
<link rel="icon" href="${base}/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${base}/app.css">
<script type="module" src="${base}/main.js"></script>
${modules.map(m => `<link rel="modulepreload" href="${base}/${m}">`).join('\n')}
</head>
<body>
<noscript>The ffmesh dashboard needs JavaScript.</noscript>
<div id="app" data-assets="${base}"></div>
</body>
</html>
`
}
