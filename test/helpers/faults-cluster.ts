import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { ControlRoutes, type JobStatus, type NodeEvent, type PeerStatus } from '@ffmesh/protocol'
import { afterAll, afterEach, beforeAll } from 'vitest'
import {
  ffmeshJson,
  killOrphans,
  makeDataDir,
  startNodeProcess,
  waitUntil,
  type NodeProcess,
  type NodeSettings
} from './node-harness.js'
import { paced } from './pace.js'

const run = promisify(execFile)

/**
 * Real `ffmesh node` processes for the fault scenarios: started, killed, restarted and (through
 * `wrap`) placed in network namespaces, with every node's events recorded from its control socket
 * across restarts and its JSON log kept for the report when a scenario fails.
 */

/** A profile slow enough that a scenario can act while a unit is still converting. */
export const SLOW_PROFILE = {
  name: 'slow264',
  kind: 'video',
  container: 'mkv',
  video: { encoder: 'libx264', quality: 23, preset: 'veryslow', threads: 1 },
  audio: { encoder: 'aac', bitrateKbps: 96 },
  subtitles: 'copy'
}
/** Short leases so expiry happens within a test; heartbeats well inside them. */
export const FAULT_TIMING = { leaseSeconds: 2, heartbeatSeconds: 0.5 }
const TERMINAL = ['done', 'failed', 'cancelled']

/** A 320x240 clip with a keyframe every second, so 1 s segments split cleanly. */
export async function makeClip (
  dir: string,
  name: string,
  seconds: number,
  size = '320x240',
  variant = 0
): Promise<string> {
  const file = path.join(dir, name)
  // `variant` shifts the hue and the tone, so clips of equal length still differ in every byte.
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=25:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${440 + variant * 10}:duration=${seconds}`,
    '-vf',
    `hue=h=${variant * 17}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    '-c:a',
    'aac',
    file
  ])
  return file
}

/**
 * A real ffmpeg for everything but the given encoders: an encode with one of them exits 1. With
 * `hide` the encoders are also missing from `-encoders` (a build without them: the node refuses
 * such units); without it they are listed (a node that claims units and then fails every one).
 */
export async function ffmpegFailing (dir: string, name: string, encoders: string[], hide: boolean): Promise<string> {
  const wrapper = path.join(dir, name)
  const list = hide ? `ffmpeg "$@" | grep -v -E ' (${encoders.join('|')}) '; exit 0` : 'exec ffmpeg "$@"'
  const tests = encoders
    .map(e => `[ "$a" = "${e}" ] && { echo "simulated encoder failure (${e})" >&2; exit 1; }`)
    .join('; ')
  await fs.writeFile(
    wrapper,
    `#!/bin/sh\nfor a in "$@"; do [ "$a" = "-encoders" ] && { ${list}; }; done\nfor a in "$@"; do ${tests}; done\nexec ffmpeg "$@"\n`,
    { mode: 0o755 }
  )
  return wrapper
}

/** Decoded-packet count of the first video stream: the frame count outputs are checked against. */
export async function videoFrames (file: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_packets',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_packets',
    '-of',
    'json',
    file
  ])
  return Number((JSON.parse(stdout) as { streams: Array<{ nb_read_packets: string }> }).streams[0]?.nb_read_packets)
}

/** Finished files in an output folder (temp and write-check files excluded). */
export async function outputFiles (dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[])
  return names.filter(n => !n.startsWith('.')).sort()
}

/** A recorder of one node's server-sent events (GET /v1/events on its control socket). */
export function recordEvents (socketPath: string, into: NodeEvent[]): () => void {
  let buffer = ''
  const req = http.get({ socketPath, path: ControlRoutes.events.path }, res => {
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffer += chunk
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = block.split('\n').find(l => l.startsWith('data: '))
        if (data != null) into.push(JSON.parse(data.slice(6)) as NodeEvent)
      }
    })
    res.on('error', () => {})
  })
  req.on('error', () => {})
  return () => { req.destroy() }
}

export interface ClusterNode {
  name: string
  dataDir: string
  outDir: string
  peerId: string
  proc: NodeProcess | null
  /** Events seen by this node over all its runs. */
  events: NodeEvent[]
  /** Logs of earlier runs, joined with the current one by `log()`. */
  pastLogs: string[]
  wrap?: string[]
}

export interface ClusterSpec extends NodeSettings { name: string, wrap?: string[] }

export interface FaultCluster {
  nodes: ClusterNode[]
  node(name: string): ClusterNode
  start(name: string, env?: NodeJS.ProcessEnv): Promise<void>
  /** Stops a node with a signal; after SIGKILL also ends the ffmpeg children it orphaned. */
  stop(name: string, signal?: NodeJS.Signals): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  status(name: string, jobId: string): Promise<JobStatus>
  peers(name: string): Promise<PeerStatus[]>
  /** Waits until every running node (or the named ones) lists all the others as peers. */
  waitMesh(names?: string[], timeoutMs?: number): Promise<void>
  waitJob(name: string, jobId: string, timeoutMs?: number): Promise<JobStatus>
  submit(name: string, source: string, profile: string, extra?: string[]): Promise<string>
  log(name: string): string
  /** The node's pino lines (over all its runs) whose message is `msg`. */
  logged(name: string, msg: string): Array<Record<string, unknown>>
  cleanup(): Promise<void>
}

export async function createFaultCluster (
  specs: ClusterSpec[],
  shared: { extra?: Record<string, unknown> } = {}
): Promise<FaultCluster> {
  const nodes: ClusterNode[] = []
  const stopRecorders = new Map<string, () => void>()
  let keyFile: string | undefined
  try {
    for (const spec of specs) {
      const dataDir = await makeDataDir(
        { mesh: true, ...FAULT_TIMING, ...spec, extra: { profiles: [SLOW_PROFILE], ...shared.extra, ...spec.extra } },
        keyFile
      )
      keyFile ??= path.join(dataDir, 'swarm.key')
      nodes.push({
        name: spec.name,
        dataDir,
        outDir: path.join(dataDir, 'out'),
        peerId: '',
        proc: null,
        events: [],
        pastLogs: [],
        wrap: spec.wrap
      })
    }
  } catch (err) {
    await Promise.all(nodes.map(n => fs.rm(n.dataDir, { recursive: true, force: true })))
    throw err
  }

  const node = (name: string): ClusterNode => {
    const found = nodes.find(n => n.name === name)
    if (found == null) throw new Error(`no node ${name} in this cluster`)
    return found
  }

  const cluster: FaultCluster = {
    nodes,
    node,
    async start (name, env = {}) {
      const n = node(name)
      if (n.proc != null) throw new Error(`node ${name} is already running`)
      n.proc = await startNodeProcess(n.dataDir, {
        env: { FFMESH_LOG_LEVEL: process.env.FFMESH_LOG_LEVEL ?? 'debug', ...env },
        wrap: n.wrap
      })
      const m = /peer (\S+),/.exec(n.proc.log())
      if (m != null) n.peerId = m[1]
      stopRecorders.get(name)?.()
      stopRecorders.set(name, recordEvents(path.join(n.dataDir, 'control.sock'), n.events))
    },
    async stop (name, signal = 'SIGTERM') {
      const n = node(name)
      if (n.proc == null) return { code: null, signal: null }
      stopRecorders.get(name)?.()
      stopRecorders.delete(name)
      const exited = await n.proc.stop(signal)
      if (signal === 'SIGKILL') await killOrphans(n.dataDir)
      n.pastLogs.push(n.proc.log())
      n.proc = null
      return exited
    },
    status: (name, jobId) => ffmeshJson<JobStatus>(['status', jobId], { dataDir: node(name).dataDir }),
    peers: name => ffmeshJson<PeerStatus[]>(['peers'], { dataDir: node(name).dataDir }),
    async waitMesh (names, timeoutMs = paced(60_000)) {
      const members = (names ?? nodes.filter(n => n.proc != null).map(n => n.name)).map(node)
      await waitUntil(
        async () => {
          for (const n of members) {
            const seen = new Set((await cluster.peers(n.name)).map(p => p.id))
            if (!members.every(o => o === n || seen.has(o.peerId))) return false
          }
          return true
        },
        `nodes ${members.map(m => m.name).join(', ')} to see each other`,
        timeoutMs
      )
    },
    async waitJob (name, jobId, timeoutMs = paced(180_000)) {
      return waitUntil(
        async () => {
          const s = await cluster.status(name, jobId).catch(() => null)
          return s != null && TERMINAL.includes(s.state) ? s : null
        },
        `job ${jobId} to end on ${name}`,
        timeoutMs
      )
    },
    async submit (name, source, profile, extra = []) {
      const n = node(name)
      const r = await ffmeshJson<{ id: string }>(
        ['submit', source, '--profile', profile, '--out', n.outDir, ...extra],
        { dataDir: n.dataDir }
      )
      return r.id
    },
    log: name => {
      const n = node(name)
      return [...n.pastLogs, n.proc?.log() ?? ''].join('\n--- restart ---\n')
    },
    logged (name, msg) {
      const lines: Array<Record<string, unknown>> = []
      for (const line of cluster.log(name).split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          const entry = JSON.parse(line) as Record<string, unknown>
          if (entry.msg === msg) lines.push(entry)
        } catch {
          // A line cut short by a kill -9 is not an entry.
        }
      }
      return lines
    },
    async cleanup () {
      for (const stop of stopRecorders.values()) stop()
      stopRecorders.clear()
      await Promise.all(
        nodes.map(async n => {
          if (n.proc == null) return
          const p = n.proc
          const timer = setTimeout(() => {
            void p.stop('SIGKILL')
          }, paced(12_000))
          await p.stop('SIGTERM')
          clearTimeout(timer)
          n.proc = null
        })
      )
      for (const n of nodes) await killOrphans(n.dataDir)
      await Promise.all(nodes.map(n => fs.rm(n.dataDir, { recursive: true, force: true })))
    }
  }
  return cluster
}

/**
 * A unit of the job that one of `workers` reports converting and that is not verified yet, from
 * the owner's recorded events: pushed as they happen, so no short unit slips between two polls.
 * `which` narrows it to some of the job's units (by index).
 */
export function convertingOn (
  owner: ClusterNode,
  jobId: string,
  workers: string[],
  which: (index: number) => boolean = () => true
): NodeEvent | undefined {
  const verified = new Set(owner.events.filter(e => e.type === 'unit:verified' && e.jobId === jobId).map(e => e.index))
  return owner.events.find(
    e =>
      e.type === 'unit:converting' &&
      e.jobId === jobId &&
      workers.includes(e.peerId ?? '') &&
      e.index != null &&
      !verified.has(e.index) &&
      which(e.index)
  )
}

/** How often each unit was leased, from the owner's recorded `unit:leased` events. */
export function leaseCounts (events: NodeEvent[], jobId: string): Map<number, number> {
  const counts = new Map<number, number>()
  for (const e of events) {
    if (e.type === 'unit:leased' && e.jobId === jobId && e.index != null) {
      counts.set(e.index, (counts.get(e.index) ?? 0) + 1)
    }
  }
  return counts
}

/** After each scenario: on failure print the tail of every node's log, then stop and remove the cluster. */
export async function finishCluster (cluster: FaultCluster | undefined, failed: boolean): Promise<void> {
  if (cluster == null) return
  if (failed) {
    for (const n of cluster.nodes) console.error(`--- log of ${n.name} ---\n${cluster.log(n.name).slice(-20_000)}`)
  }
  await cluster.cleanup()
}

/** What a fault spec file shares between its scenarios; `cluster` is the running scenario's. */
export interface FaultSuite { media: string, source: string, cluster: FaultCluster | undefined }

/**
 * The hooks of a fault spec file: a temp media folder (holding one clip when `clip` is given),
 * each scenario's cluster finished after it (with its logs when it failed), the folder removed at
 * the end. A file with more to tear down after each scenario keeps its own hooks.
 */
export function faultSuite (prefix: string, clip?: { name: string, seconds: number }): FaultSuite {
  const suite: FaultSuite = { media: '', source: '', cluster: undefined }
  beforeAll(async () => {
    suite.media = await fs.mkdtemp(path.join(os.tmpdir(), `ffmesh-faults-${prefix}-`))
    if (clip != null) suite.source = await makeClip(suite.media, clip.name, clip.seconds)
  })
  afterEach(async (ctx) => {
    await finishCluster(suite.cluster, ctx.task.result?.state === 'fail')
    suite.cluster = undefined
  })
  afterAll(async () => { await fs.rm(suite.media, { recursive: true, force: true }) })
  return suite
}
