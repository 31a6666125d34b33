/**
 * Real `ffmesh node` processes for the scaling bench, each optionally pinned to one core with
 * `taskset -c` (its ffmpeg children inherit the affinity), driven through the `ffmesh` CLI.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { trackChild } from './cleanup.ts'
import { childCpuSeconds, processCpuSeconds } from './report.ts'

const run = promisify(execFile)

export const FFMESH_BIN = fileURLToPath(new URL('../../packages/cli/bin/ffmesh.js', import.meta.url))
/** Start-up (LevelDB, libp2p, ffmpeg -encoders) on a busy 2-core machine. */
const START_TIMEOUT_MS = 60_000
/**
 * Node.js flags for every node process, for looking inside a bench run: e.g.
 * FFMESH_BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' or '--trace-gc' (which NODE_OPTIONS
 * does not allow) with `bench/trace.ts --keep-logs DIR`.
 */
const NODE_FLAGS = (process.env.FFMESH_BENCH_NODE_FLAGS ?? '').split(' ').filter(f => f !== '')
const POLL_MS = 250

export interface NodeProcess { dataDir: string, child: ChildProcess, core: number | null, stop(): Promise<void> }

export async function ffmeshJson<T> (
  dataDir: string,
  args: string[],
  options: { signal?: AbortSignal } = {}
): Promise<T> {
  const { stdout } = await run(process.execPath, [FFMESH_BIN, ...args, '--data-dir', dataDir, '--json'], {
    maxBuffer: 16 << 20,
    signal: options.signal
  })
  return JSON.parse(stdout) as T
}

export async function startNodeProcess (
  dataDir: string,
  core: number | null,
  options: { signal?: AbortSignal } = {}
): Promise<NodeProcess> {
  const log = await fs.open(path.join(dataDir, 'node.log'), 'w')
  const argv = [
    ...(core != null ? ['taskset', '-c', String(core)] : []),
    process.execPath,
    ...NODE_FLAGS,
    FFMESH_BIN,
    'node',
    '--data-dir',
    dataDir
  ]
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', log.fd, log.fd] })
  trackChild(child)
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGTERM')
    await exited
    await log.close()
  }
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode != null) {
      await log.close()
      throw new Error(
        `ffmesh node exited during start-up; see ${path.join(dataDir, 'node.log')}:\n${await fs.readFile(path.join(dataDir, 'node.log'), 'utf8')}`
      )
    }
    if (
      await ffmeshJson(dataDir, ['status'], options).then(
        () => true,
        () => false
      )
    ) {
      break
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`ffmesh node in ${dataDir} did not answer within ${START_TIMEOUT_MS / 1000} s`)
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  return { dataDir, child, core, stop }
}

/** Waits until every node lists every other one in `ffmesh peers` (they found each other by mDNS). */
export async function waitForPeers (
  nodes: NodeProcess[],
  timeoutMs: number,
  options: { signal?: AbortSignal } = {}
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const seen = await Promise.all(
      nodes.map(
        async n => (await ffmeshJson<Array<{ id: string }>>(n.dataDir, ['peers'], options).catch(() => [])).length
      )
    )
    if (seen.every(count => count >= nodes.length - 1)) return
    if (Date.now() > deadline) {
      throw new Error(
        `the nodes did not find each other by mDNS within ${timeoutMs / 1000} s (peers seen: ${seen.join(', ')})`
      )
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS * 2))
  }
}

/** Submits on the node and waits (`ffmesh submit --wait`); returns the job id and the wall time. */
export async function submitAndWait (
  dataDir: string,
  source: string,
  outDir: string,
  options: { signal?: AbortSignal; profile?: string } = {}
): Promise<{ id: string; wallMs: number }> {
  const t0 = performance.now()
  const { id } = await ffmeshJson<{ id: string }>(
    dataDir,
    ['submit', source, '--profile', options.profile ?? 'h264', '--out', outDir, '--wait'],
    options
  ).catch((err: Error & { stdout?: string }) => {
    throw new Error(`ffmesh submit --wait failed: ${err.message} ${err.stdout ?? ''}`)
  })
  return { id, wallMs: performance.now() - t0 }
}

/**
 * CPU seconds so far of every node process and its ffmpeg children, plus this process's waited-for
 * children (the `ffmesh submit --wait` that follows the job): what a job costs, whichever core ran it.
 */
export function jobCpuSeconds (nodes: NodeProcess[]): number {
  const cpu = nodes.map(n => processCpuSeconds(n.child.pid as number))
  return cpu.reduce((sum, c) => sum + c.self + c.children, childCpuSeconds())
}
