/**
 * bench/scale-sim: 5, 10 and 20 full nodes in one process each (real libp2p on loopback, real
 * LevelDB, leases, gossip and transfers) with a stand-in converter; one job of 200 small units is
 * submitted on the first node. Prints gossip messages and bytes per unit, time to the last grant,
 * and fails if a unit was ever granted twice at once.
 *
 *   node --experimental-strip-types bench/scale-sim.ts [--nodes 5,10,20] [--units 200] [--unit-ms 250]
 */
import { fork } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { JOBS_TOPIC, CAPACITY_TOPIC, type NodeEvent } from '@ffmesh/protocol'
import { startNode, type RunningNode } from '../packages/node/dist/index.js'
import type { MeshStats } from '../packages/node/dist/mesh/index.js'
import { benchTempDir, removeBenchTempDir } from './lib/cleanup.ts'
import { auditLeases, type LeaseAudit } from './lib/lease-audit.ts'
import { makeNodeDir, removeNodeDir } from './lib/node-dirs.ts'
import { argNumber, argValue, commandLine, goal, loadNote, printTable, seconds } from './lib/report.ts'
import { createStandInMedia } from './lib/stand-in-media.ts'

const SELF = fileURLToPath(import.meta.url)
/** Small units: this measures coordination, not transfer. */
const UNIT_BYTES = 4096
const MESH_TIMEOUT_MS = 120_000
const JOB_TIMEOUT_MS = 10 * 60_000
/** Adverts every 2 s: quick enough to see peers, rare enough not to drown the job's own messages. */
const ADVERTISE_SECONDS = 2
/**
 * "Bounded and not growing with the node count": the largest mesh may publish at most this much
 * more per unit than the smallest (claims from extra idle workers are the expected difference).
 */
const GROWTH_TOLERANCE = 1.25

interface SimResult {
  nodes: number
  units: number
  startMs: number
  toLastGrantMs: number
  toDoneMs: number
  jobsPublished: { messages: number, bytes: number }
  jobsReceived: { messages: number, bytes: number }
  capacityPublished: { messages: number, bytes: number }
  workers: number
  maxUnitsOnOneNode: number
  audit: LeaseAudit
}

/**
 * A stand-in unit "converts" for this long without using the CPU. With instant units the owner's
 * own worker, which hears its offers first, would win every claim and leave the mesh idle.
 */
const unitMsArg = (): number => Number(argValue('unit-ms') ?? 250)

const sumTopic = (
  before: MeshStats[],
  after: MeshStats[],
  table: 'published' | 'received',
  topic: string
): { messages: number; bytes: number } =>
  after.reduce(
    (acc, s, i) => ({
      messages: acc.messages + (s[table][topic]?.messages ?? 0) - (before[i]?.[table][topic]?.messages ?? 0),
      bytes: acc.bytes + (s[table][topic]?.bytes ?? 0) - (before[i]?.[table][topic]?.bytes ?? 0)
    }),
    { messages: 0, bytes: 0 }
  )

const waitFor = async (check: () => boolean, what: string | (() => string), timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${typeof what === 'string' ? what : what()}`)
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/**
 * One mesh of `count` nodes in a star around node 0, the owner, which dials every worker by its
 * multiaddr (mesh.bootstrap); a star is all the job needs (offers and grants go out from the owner,
 * claims, heartbeats and results come back to it). Each worker listens on its own loopback address
 * (127.0.0.2, 127.0.0.3, ...) and the owner dials out: gossipsub's default peer score punishes more
 * than 10 peers behind one IP (IPColocationFactorThreshold 10, weight -5), and with 19 peers on
 * 127.0.0.1 every one of them is graylisted and its messages ignored.
 */
async function simulate (count: number, unitCount: number, unitMs: number): Promise<SimResult> {
  const logger = pino({ level: process.env.FFMESH_BENCH_LOG ?? 'silent' })
  const work = await benchTempDir('ffmesh-bench-sim-')
  const dirs: string[] = []
  const nodes: RunningNode[] = []
  try {
    const t0 = Date.now()
    // Workers first, each on its own loopback address; then the owner, which dials them all.
    const workerAddrs: string[] = []
    const workers: RunningNode[] = []
    for (let i = 1; i < count; i++) {
      const { dir, peerId } = await makeNodeDir(
        {
          name: `sim-${i}`,
          slots: 1,
          threads: 1,
          mesh: {
            enabled: true,
            mdns: false,
            advertiseSeconds: ADVERTISE_SECONDS,
            listen: [`/ip4/127.0.0.${i + 1}/tcp/0`]
          }
        },
        dirs[0] == null ? undefined : path.join(dirs[0], 'swarm.key')
      )
      dirs.push(dir)
      const node = await startNode({
        dataDir: dir,
        logger,
        media: createStandInMedia({ units: unitCount, unitBytes: UNIT_BYTES, unitMs })
      })
      workers.push(node)
      const own = node.api.info().addresses[0]
      if (own == null) throw new Error(`node ${i} listens nowhere`)
      workerAddrs.push(own.includes('/p2p/') ? own : `${own}/p2p/${peerId}`)
    }
    const made = await makeNodeDir(
      {
        name: 'sim-0',
        slots: 1,
        threads: 1,
        mesh: { enabled: true, mdns: false, advertiseSeconds: ADVERTISE_SECONDS, bootstrap: workerAddrs }
      },
      path.join(dirs[0] as string, 'swarm.key')
    )
    dirs.push(made.dir)
    nodes.push(
      await startNode({
        dataDir: made.dir,
        logger,
        media: createStandInMedia({ units: unitCount, unitBytes: UNIT_BYTES, unitMs })
      }),
      ...workers
    )
    // The owner must see every worker's advert and every worker the owner's; workers need not see each other.
    const ownerId = (nodes[0] as RunningNode).peerId
    await waitFor(
      () =>
        (nodes[0] as RunningNode).api.peers().length >= count - 1 &&
        nodes.slice(1).every(n => n.api.peers().some(p => p.id === ownerId)),
      () =>
        `node 0 to see all ${count - 1} others (it sees ${(nodes[0] as RunningNode).api.peers().length}; workers that see it: ${nodes.slice(1).filter(n => n.api.peers().some(p => p.id === ownerId)).length}; node 0 gossip counters ${JSON.stringify((nodes[0] as RunningNode).meshStats())})`,
      Number(process.env.FFMESH_BENCH_MESH_TIMEOUT_MS ?? MESH_TIMEOUT_MS)
    )
    const startMs = Date.now() - t0

    const owner = nodes[0] as RunningNode
    const source = path.join(work, 'source.bin')
    await fs.writeFile(source, Buffer.alloc(64 * 1024, 7))
    const events: NodeEvent[] = []
    owner.api.onEvent(e => { events.push(e) })
    const before = nodes.map(n => n.meshStats() as MeshStats)
    const submitAt = Date.now()
    const { id } = await owner.api.submit({ source, profile: 'h264', outDir: path.join(work, 'out') })
    await waitFor(
      () =>
        events.some(
          e => e.jobId === id && (e.type === 'job:done' || e.type === 'job:failed' || e.type === 'job:cancelled')
        ),
      'the job to end',
      JOB_TIMEOUT_MS
    )
    const doneAt = Date.now()
    const after = nodes.map(n => n.meshStats() as MeshStats)
    const status = owner.api.getJob(id)
    if (status.state !== 'done') {
      throw new Error(`the job ended ${status.state}: ${status.error?.code ?? ''} ${status.error?.message ?? ''}`)
    }
    const own = events.filter(e => e.jobId === id)
    if (process.env.FFMESH_BENCH_DEBUG != null) {
      const byType: Record<string, number> = {}
      for (const e of own) byType[e.type] = (byType[e.type] ?? 0) + 1
      console.error(
        JSON.stringify({
          byType,
          rejected: own.filter(e => e.type === 'peer:rejected').slice(0, 5),
          leasedTo: own.filter(e => e.type === 'unit:leased').map(e => e.peerId?.slice(-4)),
          peers: nodes.map(n => n.peerId.slice(-4)),
          views: nodes.map(n => n.api.peers().map(p => `${p.id.slice(-4)}:${p.slotsFree}`)),
          stats: after.map(s => ({ rej: s.gossipRejected, pub: s.published[JOBS_TOPIC], rec: s.received[JOBS_TOPIC] }))
        })
      )
    }
    const grants = own.filter(e => e.type === 'unit:leased')
    const perWorker = new Map<string, number>()
    for (const u of status.units) if (u.worker != null) perWorker.set(u.worker, (perWorker.get(u.worker) ?? 0) + 1)
    return {
      nodes: count,
      units: status.units.length,
      startMs,
      toLastGrantMs: (grants.at(-1)?.time ?? submitAt) - submitAt,
      toDoneMs: doneAt - submitAt,
      jobsPublished: sumTopic(before, after, 'published', JOBS_TOPIC),
      jobsReceived: sumTopic(before, after, 'received', JOBS_TOPIC),
      capacityPublished: sumTopic(before, after, 'published', CAPACITY_TOPIC),
      workers: perWorker.size,
      maxUnitsOnOneNode: Math.max(...perWorker.values()),
      audit: auditLeases(own, status.units.length)
    }
  } finally {
    await Promise.all(nodes.map(n => n.stop().catch(() => {})))
    await Promise.all(dirs.map(d => removeNodeDir(d)))
    await removeBenchTempDir(work)
  }
}

/** Each mesh size runs in its own process, so one size's sockets and timers cannot slow the next. */
async function inChild (count: number, units: number, unitMs: number): Promise<SimResult> {
  const child = fork(SELF, ['--child', String(count), '--units', String(units), '--unit-ms', String(unitMs)], {
    execArgv: ['--experimental-strip-types', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  return await new Promise((resolve, reject) => {
    let result: SimResult | null = null
    child.on('message', (m) => { result = m as SimResult })
    child.once('error', reject)
    child.once('exit', code =>
      result != null && code === 0
        ? resolve(result)
        : reject(new Error(`the ${count}-node simulation failed (exit ${String(code)})`))
    )
  })
}

async function main (): Promise<void> {
  const units = argNumber('units', 200)
  const unitMs = unitMsArg()
  const sizes = (argValue('nodes') ?? '5,10,20').split(',').map(Number)
  if (sizes.some(n => !Number.isInteger(n) || n < 2)) {
    throw new Error('--nodes takes a comma-separated list of node counts, each at least 2')
  }
  console.log(
    `bench/scale-sim: ${sizes.join(', ')} nodes in one process each, one job of ${units} stand-in units of ${UNIT_BYTES} bytes submitted on node 0`
  )
  console.log(
    `each node: worker.slots 1, a stand-in conversion sleeps ${unitMs} ms (no CPU), mesh on loopback without mDNS (node 0 dials every worker by mesh.bootstrap; worker K listens on 127.0.0.K+1), adverts every ${ADVERTISE_SECONDS} s; ${loadNote()}`
  )
  const results: SimResult[] = []
  for (const n of sizes) {
    const r = await inChild(n, units, unitMs)
    console.log(`  ${n} nodes: mesh up in ${seconds(r.startMs)} s, job done in ${seconds(r.toDoneMs)} s; ${loadNote()}`)
    results.push(r)
  }
  console.log('')
  printTable(
    [
      'nodes',
      'units',
      'job msgs/unit (published)',
      'job bytes/unit',
      'job msgs received/unit/node',
      'capacity msgs/unit',
      'last grant s',
      'done s',
      'workers used',
      'leases',
      'overlapping leases'
    ],
    results.map(r => [
      r.nodes,
      r.units,
      (r.jobsPublished.messages / r.units).toFixed(2),
      Math.round(r.jobsPublished.bytes / r.units),
      (r.jobsReceived.messages / r.units / (r.nodes - 1)).toFixed(2),
      (r.capacityPublished.messages / r.units).toFixed(2),
      seconds(r.toLastGrantMs),
      seconds(r.toDoneMs),
      `${r.workers} (max ${r.maxUnitsOnOneNode})`,
      r.audit.leases,
      r.audit.overlaps.length
    ])
  )
  const broken = results.filter(
    r => r.audit.overlaps.length > 0 || r.audit.verifiedTwice.length > 0 || r.audit.neverVerified.length > 0
  )
  for (const r of broken) {
    console.error(
      `INVARIANT BROKEN with ${r.nodes} nodes: ${[...r.audit.overlaps, ...r.audit.verifiedTwice.map(i => `unit ${i} verified twice`), ...r.audit.neverVerified.map(i => `unit ${i} never verified`)].slice(0, 10).join('; ')}`
    )
  }
  const perUnit = results.map(r => r.jobsPublished.messages / r.units)
  const growth = Math.max(...perUnit) / Math.min(...perUnit)
  console.log(
    `\nno unit granted twice at once: ${broken.length === 0 ? 'checked, holds' : 'BROKEN'} (every unit:leased of the owner checked against live leases)`
  )
  console.log(
    `goal: job messages per unit bounded and not growing with the node count (largest/smallest <= ${GROWTH_TOLERANCE}): ${goal(growth <= GROWTH_TOLERANCE)} (${growth.toFixed(2)})`
  )
  console.log(`command: ${commandLine()}`)
  console.log(JSON.stringify({ bench: 'scale-sim', units, results }))
  if (broken.length > 0) process.exitCode = 1
}

const childAt = process.argv.indexOf('--child')
if (childAt >= 0) {
  const result = await simulate(Number(process.argv[childAt + 1]), argNumber('units', 200), unitMsArg())
  process.send?.(result)
  process.disconnect?.()
} else {
  await main()
}
