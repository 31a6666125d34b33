import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import type { JobStatus } from '@ffmesh/protocol'
import { paced } from './pace.js'

/** Real `ffmesh` processes for the process-level tests: the binary a user runs, over its socket. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const FFMESH_BIN = path.join(REPO, 'packages/cli/bin/ffmesh.js')

export interface CliResult { code: number, stdout: string, stderr: string }

/** Runs `ffmesh ARGS` to its end; it is killed after `timeoutMs` (2 min at the suite's pace). */
export async function ffmesh (
  args: string[],
  options: { dataDir?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}
): Promise<CliResult> {
  return await startCli(args, { ...options, timeoutMs: options.timeoutMs ?? paced(120_000) }).done
}

/** A command still running: what it has printed so far (stdout and stderr in order), and its end. */
export interface RunningCli {
  done: Promise<CliResult>
  output: () => string
  /** Resolves once it has printed `text`; fails at once if it ends without printing it. */
  printed: (text: string, timeoutMs?: number) => Promise<void>
}

/**
 * Starts `ffmesh ARGS` and returns at once, for a test that acts while the command runs. With
 * `cleanEnv` it gets only PATH, a HOME of its own and `env`: nothing of the user's FFMESH_*. It is
 * killed after `timeoutMs` (4 min at the suite's pace).
 */
export function startCli (
  args: string[],
  options: { dataDir?: string; env?: NodeJS.ProcessEnv; cleanEnv?: boolean; timeoutMs?: number } = {}
): RunningCli {
  const base = options.cleanEnv === true ? { PATH: process.env.PATH, HOME: os.tmpdir() } : process.env
  const env: NodeJS.ProcessEnv = { ...base, ...options.env }
  if (options.dataDir != null) env.FFMESH_DATA_DIR = options.dataDir
  const child = spawn(process.execPath, [FFMESH_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let both = ''
  let ended = false
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); both += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); both += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? paced(240_000))
  const done = new Promise<CliResult>(resolve => child.on('close', c => {
    clearTimeout(timer)
    ended = true
    resolve({ code: c ?? 1, stdout, stderr })
  }))
  const printed = async (text: string, timeoutMs = paced(60_000)): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (!both.includes(text)) {
      if (ended) throw new Error(`ffmesh ${args.join(' ')} ended without printing "${text}"; it printed:\n${both}`)
      if (Date.now() > deadline) throw new Error(`ffmesh ${args.join(' ')} did not print "${text}"; it printed:\n${both}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
  return { done, output: () => both, printed }
}

export async function ffmeshJson<T = unknown> (args: string[], options: Parameters<typeof ffmesh>[1] = {}): Promise<T> {
  const r = await ffmesh([...args, '--json'], options)
  try {
    return JSON.parse(r.stdout) as T
  } catch {
    throw new Error(`ffmesh ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
  }
}

export interface NodeSettings {
  name?: string
  slots?: number
  segmentSeconds?: number
  /** jobs.cut; `segments` unless a test asks, so small files are cut as the tests expect. */
  cut?: 'auto' | 'segments'
  leaseSeconds?: number
  heartbeatSeconds?: number
  mesh?: boolean
  mdns?: boolean
  listen?: string[]
  /** The dashboard: off unless a test needs it (many nodes share this machine, and 7676). */
  ui?: { enabled?: boolean, listen?: string }
  extra?: Record<string, unknown>
  /** Where to make the data dir (it must not exist yet); default a new temp dir. */
  dir?: string
}

const madeDataDirs = new Set<string>()

/** Removes every data dir this test file made (run after each file by test/helpers/cleanup-setup.ts). */
export async function removeDataDirs (): Promise<void> {
  await Promise.all([...madeDataDirs].map(d => fs.rm(d, { recursive: true, force: true })))
  madeDataDirs.clear()
}

/** Makes a data dir with `ffmesh init` (sharing a swarm key when given) and a config for tests. */
export async function makeDataDir (settings: NodeSettings = {}, swarmKeyFile?: string): Promise<string> {
  const dir = settings.dir ?? await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-node-'))
  madeDataDirs.add(dir)
  const r = await ffmesh([
    'init',
    '--data-dir',
    dir,
    ...(swarmKeyFile != null ? ['--swarm-key-file', swarmKeyFile] : [])
  ])
  if (r.code !== 0) throw new Error(`ffmesh init failed: ${r.stderr}`)
  // A test's own worker and jobs settings go on top of these, not instead of them.
  const { worker: extraWorker, jobs: extraJobs, ...extra } = settings.extra ?? {}
  const config = {
    name: settings.name ?? path.basename(dir),
    log: { level: 'info' },
    // ffmpeg at the suite's own priority: at a lowered one it starves behind whatever else keeps
    // the host busy (npm run test:busy), which the measured pace does not show. The default's
    // lowering is checked by packages/node/src/media/priority.test.ts.
    worker: {
      slots: settings.slots ?? 1,
      minFreeDisk: 0,
      nice: 0,
      ioIdle: false,
      ...(extraWorker as object | undefined)
    },
    jobs: {
      segmentSeconds: settings.segmentSeconds ?? 2,
      cut: settings.cut ?? 'segments',
      leaseSeconds: settings.leaseSeconds ?? 10,
      heartbeatSeconds: settings.heartbeatSeconds ?? 1,
      ...(extraJobs as object | undefined)
    },
    mesh: {
      enabled: settings.mesh ?? false,
      mdns: settings.mdns ?? true,
      listen: settings.listen ?? ['/ip4/127.0.0.1/tcp/0'],
      advertiseSeconds: 1
    },
    ui: settings.ui ?? { enabled: false },
    ...extra
  }
  await fs.writeFile(path.join(dir, 'config.yaml'), stringify(config))
  return dir
}

export interface NodeProcess {
  dataDir: string
  child: ChildProcess
  pid: number
  log: () => string
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** What `ffmesh node` prints once it has started, dashboard included. */
const READY_LINE = 'ffmesh node ready'

/** Starts `ffmesh node` and waits until its control socket answers and it says it is ready. */
export async function startNodeProcess (
  dataDir: string,
  options: { env?: NodeJS.ProcessEnv; args?: string[]; wrap?: string[] } = {}
): Promise<NodeProcess> {
  const argv = [
    ...(options.wrap ?? []),
    process.execPath,
    FFMESH_BIN,
    'node',
    '--data-dir',
    dataDir,
    ...(options.args ?? [])
  ]
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve =>
    child.on('exit', (code, signal) => resolve({ code, signal }))
  )
  let gone = false
  void exited.then(() => {
    gone = true
  })
  const deadline = Date.now() + paced(30_000)
  for (;;) {
    if (gone) throw new Error(`ffmesh node exited during start-up:\n${output}`)
    // The control socket answers before the node has started its dashboard and finished start-up;
    // the ready line (with the dashboard's address) comes last.
    const r = await ffmesh(['status', '--json'], { dataDir })
    if (r.code === 0 && output.includes(READY_LINE)) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`ffmesh node did not answer within ${paced(30_000) / 1000} s:\n${output}`)
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  return {
    dataDir,
    child,
    pid: child.pid as number,
    log: () => output,
    exited,
    async stop (signal = 'SIGTERM') {
      if (!gone) child.kill(signal)
      return exited
    }
  }
}

/** ffmpeg processes still working on files of this data dir (their argv names its blob paths). */
export async function ffmpegProcessesFor (dataDir: string): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmd = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (/ff(mpeg|probe)/.test(cmd.split('\0')[0] ?? '') && cmd.includes(dataDir)) pids.push(Number(entry))
  }
  return pids
}

/** ffmpeg children a killed node left running on its files (they are ours: the node was). */
export async function killOrphans (dataDir: string): Promise<void> {
  for (const pid of await ffmpegProcessesFor(dataDir)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // It ended by itself meanwhile.
    }
  }
}

export async function waitUntil<T> (
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = paced(60_000)
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value != null && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** Polls `ffmesh status JOB --json` until the job is done, failed or cancelled. */
export async function waitForJobEnd (dataDir: string, id: string, timeoutMs = paced(240_000)): Promise<JobStatus> {
  return waitUntil(async () => {
    const s = await ffmeshJson<JobStatus>(['status', id], { dataDir })
    return ['done', 'failed', 'cancelled', 'skipped'].includes(s.state) ? s : null
  }, `job ${id} to end`, timeoutMs)
}
