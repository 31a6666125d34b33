import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Multi-host tests on one machine: network namespaces on a private bridge behave as LAN hosts.
 * Every name carries a per-run id, so parallel runs never collide, and cleanup removes exactly
 * what this run made, also after a failure or when the process exits early.
 */
export const NETNS_SKIP_MESSAGE =
  'skipped: network-namespace tests need root (ip netns, veth, bridge); run as root or in CI with CAP_NET_ADMIN'

export function isRoot (): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

export interface NetnsHost {
  /** Namespace name, for `ip netns exec`. */
  ns: string
  /** Address on the shared /24, e.g. 10.77.42.2. */
  ip: string
  /** Host-side veth; `cut` takes it down. */
  hostLink: string
}

export interface NetnsLab {
  runId: string
  bridge: string
  hosts: NetnsHost[]
  spawnIn(host: NetnsHost | string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess
  /** Unplug a host's cable (its namespace keeps running). */
  cut(host: NetnsHost | string): Promise<void>
  restore(host: NetnsHost | string): Promise<void>
  cleanup(): Promise<void>
}

async function ip (...args: string[]): Promise<void> {
  await run('ip', args)
}

/** Remove namespaces and links whose names carry this run id; ignores what is already gone. */
function removeRun (runId: string, bridge: string, hostCount: number): void {
  const quietly = (args: string[]): void => {
    try {
      execFileSync('ip', args, { stdio: 'ignore' })
    } catch {
      // Already gone (or never made, when setup failed half-way): nothing to remove.
    }
  }
  for (let k = 1; k <= hostCount; k++) {
    quietly(['netns', 'del', `ffm-${runId}-${k}`])
    quietly(['link', 'del', `fv${runId}${k}`])
  }
  quietly(['link', 'del', bridge])
}

export async function createNetnsLab (init: { hosts: number }): Promise<NetnsLab> {
  if (!isRoot()) throw new Error(NETNS_SKIP_MESSAGE)
  if (init.hosts < 1 || init.hosts > 9) {
    throw new Error('a lab has 1 to 9 hosts (interface names are limited to 15 characters)')
  }
  const runId = randomBytes(3).toString('hex')
  // The third octet comes from the run id; the bridge has no host address, so /24s never meet.
  const subnet = `10.77.${parseInt(runId.slice(0, 2), 16)}`
  const bridge = `fb${runId}`
  const hosts: NetnsHost[] = []
  const children = new Set<ChildProcess>()
  let cleaned = false
  const onExit = (): void => { for (const c of children) c.kill('SIGKILL'); removeRun(runId, bridge, init.hosts) }
  process.once('exit', onExit)

  const resolve = (host: NetnsHost | string): NetnsHost => {
    const found = typeof host === 'string' ? hosts.find(h => h.ns === host) : host
    if (found == null) throw new Error(`no host ${String(host)} in lab ${runId}`)
    return found
  }

  try {
    // Snooping without a querier can swallow mDNS multicast on a fresh bridge.
    await ip('link', 'add', 'name', bridge, 'type', 'bridge', 'mcast_snooping', '0')
    await ip('link', 'set', bridge, 'up')
    for (let k = 1; k <= init.hosts; k++) {
      const ns = `ffm-${runId}-${k}`
      const hostLink = `fv${runId}${k}`
      const addr = `${subnet}.${k + 1}`
      await ip('netns', 'add', ns)
      await ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      await ip('link', 'set', hostLink, 'master', bridge, 'up')
      await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
      await ip('-n', ns, 'link', 'set', 'eth0', 'up')
      await ip('-n', ns, 'link', 'set', 'lo', 'up')
      // Without a multicast route mDNS silently finds nothing.
      await ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
      hosts.push({ ns, ip: addr, hostLink })
    }
  } catch (err) {
    removeRun(runId, bridge, init.hosts)
    process.removeListener('exit', onExit)
    throw err
  }

  return {
    runId,
    bridge,
    hosts,
    spawnIn (host, cmd, args, env = {}) {
      const child = spawn('ip', ['netns', 'exec', resolve(host).ns, cmd, ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      children.add(child)
      child.once('exit', () => { children.delete(child) })
      return child
    },
    async cut (host) { await ip('link', 'set', resolve(host).hostLink, 'down') },
    async restore (host) { await ip('link', 'set', resolve(host).hostLink, 'up') },
    async cleanup () {
      if (cleaned) return
      cleaned = true
      await Promise.all([...children].map(async c => {
        if (c.exitCode != null || c.signalCode != null) return
        const gone = new Promise(resolve => c.once('exit', resolve))
        c.kill('SIGTERM')
        const timer = setTimeout(() => c.kill('SIGKILL'), 5000)
        await gone
        clearTimeout(timer)
      }))
      removeRun(runId, bridge, init.hosts)
      process.removeListener('exit', onExit)
    }
  }
}

/** Names of namespaces left by any run (for a test that checks cleanup). */
export async function listLabNamespaces (runId: string): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list'])
  return stdout.split('\n').map(l => l.split(' ')[0]).filter(n => n.startsWith(`ffm-${runId}-`))
}
