/**
 * bench/batch: a batch of clips of mixed lengths (10 s to 3 min, 720p, H.264 + AAC) submitted at
 * once (`ffmesh submit CLIP... --wait`) to 2 nodes pinned to one core each (slots 1, threads 1,
 * the planner's own cut), against plain ffmpeg converting them one after another on one core, and
 * against the ceiling: two plain ffmpeg processes, each on its own core, taking the next clip of
 * the list as they finish one. Interleaved over rounds on one machine; each round gives a speedup
 * against that round's plain run, and the figure is their median. Beside the ceiling it prints the
 * ceiling's work split evenly over the cores (see evenSplitMs): the most this host's cores gave.
 *
 * node --experimental-strip-types bench/batch.ts [--rounds 3] [--clips 12] [--scale 1] [--nodes 2]
 * [--keep-logs DIR] [--mesh-only]
 *
 * `--clips N` takes the first N lengths of the list; `--scale F` multiplies every length (0.1 for
 * a smoke run of a few minutes). For finding where a round's time went: `--keep-logs` runs the
 * nodes at debug level and copies their logs to DIR/round-R/node-K.log; `--mesh-only` runs only the
 * mesh, printing its rounds and no ratios.
 */
import os from 'node:os'
import path from 'node:path'
import type { UnitStatus } from '@ffmesh/protocol'
import { benchTempDir, removeBenchTempDir } from './lib/cleanup.ts'
import { sampleDirtyPages } from './lib/dirty-pages.ts'
import { describeMachineCpu, machineCpu, machineCpuSince, type MachineCpu } from './lib/machine-cpu.ts'
import { describeBusy, describeLastUnits, nodeBusy } from './lib/node-busy.ts'
import { ffmeshJson, jobCpuSeconds, type NodeProcess } from './lib/node-processes.ts'
import { startPinnedMesh } from './lib/pinned-mesh.ts'
import { plainArgv, runPlain } from './lib/plain-ffmpeg.ts'
import { argFlag, argNumber, argValue, childCpuSeconds, commandLine, goal, loadNote, median, printTable, processCpuSeconds, seconds } from './lib/report.ts'
import { countVideoFrames, describeSample, makeBenchSample } from './lib/samples.ts'

/** The goals: the batch at least 1.9x plain ffmpeg, and at least 0.96 of the ceiling's speedup. */
const SPEEDUP_GOAL = 1.9
const OF_CEILING_GOAL = 0.96
/** Clip lengths in submission order: mixed, 10 s to 3 min, 820 s in all. */
const LENGTHS = [45, 180, 10, 90, 30, 150, 20, 120, 60, 15, 75, 25]
/** The shortest clip a scaled run makes: shorter, a clip is mostly start-up. */
const MIN_CLIP_SEC = 2
const MESH_TIMEOUT_MS = 90_000

interface JobDoc {
  state: string
  output: string | null
  error: { code: string, message: string } | null
  units: UnitStatus[]
}

/** Each worker takes the next clip of the list when it finishes one, as a shell loop over a shared list would. */
async function runCeiling (
  clips: string[],
  work: string,
  workers: number
): Promise<{ wallMs: number, cpuSec: number, machine: string, evenMs: number }> {
  const cores = os.availableParallelism()
  const queue = [...clips.entries()]
  const cpu0 = childCpuSeconds()
  const machine0 = machineCpu()
  const t0 = performance.now()
  await Promise.all(Array.from({ length: workers }, async (_, k) => {
    for (let next = queue.shift(); next != null; next = queue.shift()) {
      const [i, clip] = next
      await runPlain(plainArgv(clip, path.join(work, `ceiling-${i}.mkv`), { threads: 1, pinCore: k % cores }))
    }
  }))
  const wallMs = performance.now() - t0
  const spent = machineCpuSince(machine0)
  const machine = describeMachineCpu(spent, wallMs, cores)
  return { wallMs, cpuSec: childCpuSeconds() - cpu0, machine, evenMs: evenSplitMs(spent, workers) }
}

/**
 * The ceiling's work split evenly: its busy core seconds (ffmpeg, the kernel, anything else that
 * ran) over the workers, as if neither process ended before the other. Two encodes at once can run
 * slower than one alone (they share the caches and the memory bus), so this, not 2x, is the most
 * two cores of this host gave for this batch in that round: what any split of the work, the
 * mesh's included, could reach with nothing idle and nothing added.
 */
function evenSplitMs (spent: MachineCpu, workers: number): number {
  return ((spent.niced + spent.user + spent.kernel) / workers) * 1000
}

async function runPlainList (clips: string[], work: string): Promise<{ wallMs: number, cpuSec: number }> {
  let wallMs = 0
  let cpuSec = 0
  for (const [i, clip] of clips.entries()) {
    const run = await runPlain(plainArgv(clip, path.join(work, `plain-${i}.mkv`), { threads: 1, pinCore: 0 }))
    wallMs += run.wallMs
    cpuSec += run.cpuSec
  }
  return { wallMs, cpuSec }
}

/** CPU seconds each node process spent itself (hashing, transfers, its log), its ffmpeg children left out. */
function nodesOwnCpu (nodes: NodeProcess[]): number[] {
  return nodes.map(n => processCpuSeconds(n.child.pid as number).self)
}

interface MeshRound {
  wallMs: number
  cpuSec: number
  units: string
  busy: string
  end: string
  machine: string
  dirty: string
}

async function runMesh (
  count: number,
  clips: string[],
  frames: number[],
  work: string,
  keepLogs?: string
): Promise<MeshRound> {
  const cores = os.availableParallelism()
  const mesh = await startPinnedMesh(count, {
    name: 'batch',
    cores: Array.from({ length: cores }, (_, k) => k),
    peersTimeoutMs: MESH_TIMEOUT_MS,
    ...(keepLogs != null ? { logLevel: 'debug' as const } : {})
  })
  try {
    const owner = mesh.nodes[0] as NodeProcess
    const outDir = path.join(work, 'mesh-out')
    const cpu0 = jobCpuSeconds(mesh.nodes)
    const own0 = nodesOwnCpu(mesh.nodes)
    const submittedAt = Date.now()
    const machine0 = machineCpu()
    const dirtyPages = sampleDirtyPages()
    const t0 = performance.now()
    type Doc = { id?: string, error?: unknown }
    const docs = await ffmeshJson<Doc[] | Doc>(
      owner.dataDir,
      ['submit', ...clips, '--profile', 'h264', '--out', outDir, '--wait']
    )
    const wallMs = performance.now() - t0
    const dirty = dirtyPages.stop()
    const machine = describeMachineCpu(machineCpuSince(machine0), wallMs, cores)
    const cpuSec = jobCpuSeconds(mesh.nodes) - cpu0
    const own = nodesOwnCpu(mesh.nodes).map((sec, k) => `node ${k} ${(sec - (own0[k] as number)).toFixed(1)}`)
    const kinds = new Map<string, number>()
    const byNode = mesh.peerIds.map(() => 0)
    const allUnits: UnitStatus[] = []
    const clipOf = new Map<UnitStatus, number>()
    const cutClips: number[] = []
    // One file prints one object, several an array.
    for (const [i, s] of (Array.isArray(docs) ? docs : [docs]).entries()) {
      if (s.id == null) throw new Error(`clip ${i} was refused: ${JSON.stringify(s.error)}`)
      const job = await ffmeshJson<JobDoc>(owner.dataDir, ['status', s.id])
      if (job.state !== 'done' || job.output == null) {
        throw new Error(`clip ${i} ended ${job.state}: ${job.error?.code ?? ''} ${job.error?.message ?? ''}`)
      }
      const got = await countVideoFrames(job.output)
      if (got !== frames[i]) throw new Error(`clip ${i}'s output has ${got} frames, its source ${frames[i]}`)
      const cut = job.units.some(u => u.kind === 'segment') ? 'cut' : 'whole'
      kinds.set(cut, (kinds.get(cut) ?? 0) + 1)
      if (cut === 'cut') cutClips.push(i + 1)
      allUnits.push(...job.units)
      for (const u of job.units) {
        clipOf.set(u, i + 1)
        const k = mesh.peerIds.indexOf(u.worker ?? '')
        if (k >= 0 && u.kind !== 'audio') byNode[k] = (byNode[k] ?? 0) + 1
      }
    }
    const cutList = cutClips.length > 0 ? ` (clips ${cutClips.join(', ')})` : ''
    const files = [...kinds].map(([k, n]) => `${n} ${k}${k === 'cut' ? cutList : ''}`).join(', ')
    return {
      wallMs,
      cpuSec,
      units: `${files}; video units by node: ${byNode.join(' / ')}`,
      busy: `${describeBusy(nodeBusy(allUnits, mesh.peerIds, submittedAt), wallMs / 1000)}; the nodes' own CPU s (beside their children): ${own.join(', ')}`,
      end: describeLastUnits(allUnits, mesh.peerIds, submittedAt, u => `clip ${clipOf.get(u) ?? '?'}`),
      machine,
      dirty
    }
  } finally {
    await mesh.close({ keepLogs })
  }
}

async function main (): Promise<void> {
  const rounds = Math.max(1, argNumber('rounds', 3))
  const count = argNumber('nodes', 2)
  const scale = argNumber('scale', 1)
  const lengths = LENGTHS.slice(0, argNumber('clips', LENGTHS.length)).map(s => Math.max(MIN_CLIP_SEC, Math.round(s * scale)))
  const total = lengths.reduce((a, b) => a + b, 0)
  const keepLogs = argValue('keep-logs')
  const meshOnly = argFlag('mesh-only')
  console.log(`bench/batch: ${lengths.length} clips at once to ${count} nodes on one core each, against plain ffmpeg`)
  console.log(`clips (s, in submission order): ${lengths.join(' ')} (${total} s in all); ${loadNote()}`)
  console.log(`each: ${describeSample({ width: 1280, height: 720, seconds: lengths[0] as number })}, its own length`)
  const clips: string[] = []
  for (const s of lengths) clips.push(await makeBenchSample({ width: 1280, height: 720, seconds: s }))
  const frames = await Promise.all(clips.map(async c => await countVideoFrames(c)))
  const work = await benchTempDir('ffmesh-bench-batch-')
  const runs = { plain: [] as number[], ceiling: [] as number[], even: [] as number[], mesh: [] as number[] }
  const cpu = { plain: [] as number[], ceiling: [] as number[], mesh: [] as number[] }
  let units = ''
  try {
    for (let round = 1; round <= rounds; round++) {
      if (!meshOnly) {
        const plain = await runPlainList(clips, work)
        runs.plain.push(plain.wallMs)
        cpu.plain.push(plain.cpuSec)
        console.log(`  round ${round}: plain ffmpeg, one clip after another on core 0: ${seconds(plain.wallMs)} s`)
        const ceiling = await runCeiling(clips, work, count)
        runs.ceiling.push(ceiling.wallMs)
        runs.even.push(ceiling.evenMs)
        cpu.ceiling.push(ceiling.cpuSec)
        console.log(
          `  round ${round}: ceiling, ${count} plain ffmpeg taking clips in turn: ${seconds(ceiling.wallMs)} s; ` +
          `its work split evenly ${seconds(ceiling.evenMs)} s (${(plain.wallMs / ceiling.evenMs).toFixed(2)}x plain)`
        )
        console.log(`    the machine: ${ceiling.machine}`)
      }
      const logs = keepLogs != null ? path.join(keepLogs, `round-${round}`) : undefined
      const mesh = await runMesh(count, clips, frames, work, logs)
      runs.mesh.push(mesh.wallMs)
      cpu.mesh.push(mesh.cpuSec)
      units = mesh.units
      console.log(`  round ${round}: ${count} nodes: ${seconds(mesh.wallMs)} s (${mesh.units}); ${loadNote()}`)
      console.log(`    where the time went: ${mesh.busy}`)
      console.log(`    how each node ended: ${mesh.end}`)
      console.log(`    the machine: ${mesh.machine}`)
      console.log(`    ${mesh.dirty}`)
    }
  } finally {
    await removeBenchTempDir(work)
  }
  if (meshOnly) return
  const ratios = (key: 'ceiling' | 'even' | 'mesh'): number[] => runs[key].map((ms, i) => (runs.plain[i] as number) / ms)
  const cpuRatio = (key: keyof typeof cpu): number => median(cpu[key].map((s, i) => s / (cpu.plain[i] as number)))
  const speedup = median(ratios('mesh'))
  const ceiling = median(ratios('ceiling'))
  const even = median(ratios('even'))
  // Per round: the mesh's wall time against the ceiling's in the same round.
  const ofCeiling = median(runs.mesh.map((ms, i) => (runs.ceiling[i] as number) / ms))
  const rows = [
    ['plain ffmpeg, one clip after another, core 0', seconds(median(runs.plain)), '1.00', cpuRatio('plain').toFixed(2)],
    [`ceiling: ${count} plain ffmpeg taking clips in turn`, seconds(median(runs.ceiling)), ceiling.toFixed(2),
      cpuRatio('ceiling').toFixed(2)],
    ['the ceiling\'s work split evenly (no core idle at its end)', seconds(median(runs.even)), even.toFixed(2), ''],
    [`${count} nodes, one core each (${units})`, seconds(median(runs.mesh)), speedup.toFixed(2),
      cpuRatio('mesh').toFixed(2)]
  ]
  console.log('')
  printTable(['run', `median wall s (${rounds} rounds)`, 'median speedup', 'CPU s x plain'], rows)
  console.log(`\ngoal: ${count} nodes at least ${SPEEDUP_GOAL}x plain ffmpeg: ${goal(speedup >= SPEEDUP_GOAL)} (${speedup.toFixed(3)}x)`)
  console.log(
    `goal: at least ${OF_CEILING_GOAL} of the ceiling: ${goal(ofCeiling >= OF_CEILING_GOAL)} (${ofCeiling.toFixed(3)})`
  )
  console.log(`command: ${commandLine()}`)
  console.log(JSON.stringify({
    bench: 'batch',
    clips: lengths,
    nodes: count,
    rounds,
    rows,
    speedup,
    ceiling,
    evenSplit: even,
    ofCeiling,
    goal: { speedup: SPEEDUP_GOAL, ofCeiling: OF_CEILING_GOAL }
  }))
}

await main()
