/**
 * bench/trace: one job on N real `ffmesh node` processes pinned to one core each, with every
 * ffmpeg and ffprobe child on one timeline (from the nodes' debug logs, which give each child's
 * run time), and the CPU seconds each node and its children spent on the job. For finding where
 * a mesh job's time goes; it prints no goal.
 *
 * node --experimental-strip-types bench/trace.ts [--nodes 2] [--segment-seconds S] [--seconds 60] [--cores 1,0]
 * [--keep-logs DIR]
 *
 * `--cores` pins node K (node 0 owns the job) to the K-th core listed; by default node K runs on core K.
 * `--keep-logs` copies each node's debug log there as node-K.log before the data dirs are removed.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { benchTempDir, removeBenchTempDir } from './lib/cleanup.ts'
import { recordEvents, unitTimeline } from './lib/event-recorder.ts'
import { submitAndWait } from './lib/node-processes.ts'
import { describeMachineCpu, machineCpu, machineCpuSince } from './lib/machine-cpu.ts'
import { startPinnedMesh } from './lib/pinned-mesh.ts'
import {
  argNumber,
  argOptionalNumber,
  argValue,
  childCpuSeconds,
  commandLine,
  printTable,
  processCpuSeconds,
  seconds
} from './lib/report.ts'
import { makeBenchSample } from './lib/samples.ts'

const MESH_TIMEOUT_MS = 60_000
interface LogLine { time: number, msg?: string, binary?: string, ms?: number, args?: string[] }

async function childRuns (dataDir: string): Promise<LogLine[]> {
  const lines = (await fs.readFile(path.join(dataDir, 'node.log'), 'utf8')).split('\n')
  const parsed: LogLine[] = []
  for (const line of lines) {
    try { parsed.push(JSON.parse(line) as LogLine) } catch { /* the ready banner is not JSON */ }
  }
  return parsed.filter(l => l.msg === 'child exited')
}

async function main (): Promise<void> {
  const count = argNumber('nodes', 2)
  // Left out, the node's default: the planner chooses the cut, as in bench/scaling.
  const segmentSeconds = argOptionalNumber('segment-seconds')
  const height = 720
  const source = await makeBenchSample({
    width: Math.round((height * 16) / 9 / 2) * 2,
    height,
    seconds: argNumber('seconds', 60)
  })
  const outDir = await benchTempDir('ffmesh-bench-trace-')
  const cores =
    argValue('cores')?.split(',').map(Number) ?? Array.from({ length: count }, (_, i) => i % os.availableParallelism())
  const mesh = await startPinnedMesh(count, {
    name: 'trace',
    segmentSeconds,
    cores,
    logLevel: 'debug',
    peersTimeoutMs: MESH_TIMEOUT_MS
  })
  const { dirs, nodes, peerIds } = mesh
  try {
    const recorder = await recordEvents(dirs[0] as string)
    const t0 = Date.now()
    // The job's CPU only: start-up (module loading, libp2p, `ffmpeg -encoders`) is left out.
    const cpu0 = nodes.map(n => processCpuSeconds(n.child.pid as number))
    const cli0 = childCpuSeconds()
    const machine0 = machineCpu()
    const { id, wallMs } = await submitAndWait(dirs[0] as string, source, outDir)
    const machine = machineCpuSince(machine0)
    // `ffmesh submit --wait`, on no pinned core: it follows the job's events until the end.
    const cliCpu = childCpuSeconds() - cli0
    recorder.close()
    const cpu = nodes.map((n, i) => {
      const now = processCpuSeconds(n.child.pid as number)
      const before = cpu0[i] as typeof now
      return {
        self: now.self - before.self,
        children: now.children - before.children,
        selfSystem: now.selfSystem - before.selfSystem,
        childrenSystem: now.childrenSystem - before.childrenSystem
      }
    })
    await mesh.stopNodes()
    const runs = (await Promise.all(dirs.map(async (d, i) => (await childRuns(d)).map(l => ({ ...l, node: i })))))
      .flat()
      .filter(l => l.time >= t0)
      .sort((a, b) => a.time - b.time)
    printTable(
      ['ended s', 'node', 'child', 'ran s', 'last argument'],
      runs.map(l => [
        ((l.time - t0) / 1000).toFixed(2),
        `node ${l.node}`,
        l.binary ?? '',
        ((l.ms ?? 0) / 1000).toFixed(2),
        (l.args?.at(-1) ?? '')
          .replace(/[0-9a-f]{128}/g, '<sha512>')
          .replace(/^.*\/(ffmesh-bench-[^/]+)\//, '…/')
          .slice(-60)
      ])
    )
    console.log('\nunits, seconds from submit (owner\'s events; a unit leased twice was moved or released):')
    printTable(
      ['unit', 'worker', 'granted', 'verified', 'took'],
      unitTimeline(recorder.events, id, t0, peer => `node ${peerIds.indexOf(peer ?? '')}`)
    )
    console.log('')
    printTable(
      ['node', 'core', 'job: node cpu s (kernel)', 'job: children cpu s (kernel)'],
      cpu.map((c, i) => [
        `node ${i}`,
        String(nodes[i]?.core ?? '-'),
        `${c.self.toFixed(2)} (${c.selfSystem.toFixed(2)})`,
        `${c.children.toFixed(2)} (${c.childrenSystem.toFixed(2)})`
      ])
    )
    console.log(`the submitting CLI (ffmesh submit --wait): ${cliCpu.toFixed(2)} cpu s`)
    // Idle core seconds are what a better split could still use; the kernel's are in no process's figure.
    console.log(`the machine over the job (other user: the nodes, the CLI, this bench): ${describeMachineCpu(machine, wallMs, os.availableParallelism())}`)
    console.log(
      `\njob: ${seconds(wallMs)} s from submit to the verified output in place, ${count} node(s), segmentSeconds ${segmentSeconds ?? 'the node default'}`
    )
    console.log(`command: ${commandLine()}`)
  } finally {
    await mesh.close({ keepLogs: argValue('keep-logs') })
    await removeBenchTempDir(outDir)
  }
}

await main()
