import { isIP } from 'node:net'

/** Where the dashboard listens unless `ui.listen` says otherwise (the CLI contract in the README). */
export const DEFAULT_UI_LISTEN = '127.0.0.1:7676'

export interface ListenAddress {
  /** An IP literal without brackets, or `localhost`. */
  host: string
  port: number
  /** Only this machine can connect: 127.0.0.0/8, ::1 or localhost. */
  loopback: boolean
}

/** `127.0.0.1:7676`, `[::1]:7676`, `0.0.0.0:7676`, `localhost:0` → its parts; null when malformed. */
export function parseListenAddress (text: string): ListenAddress | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim())
  if (match == null) return null
  const host = (match[1] ?? match[2]) as string
  const port = Number(match[3])
  if (port > 65_535) return null
  if (match[1] != null ? isIP(host) !== 6 : host !== 'localhost' && isIP(host) !== 4) return null
  return { host, port, loopback: isLoopbackHost(host) }
}

export function isLoopbackHost (host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  return (
    bare === 'localhost' ||
    bare.endsWith('.localhost') ||
    bare === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare)
  )
}

/** `http://host:port/` for people and links: IPv6 in brackets; the unspecified address as loopback. */
export function dashboardUrl (host: string, port: number): string {
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${isIP(shown) === 6 ? `[${shown}]` : shown}:${port}/`
}
