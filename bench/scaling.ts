/**
 * bench/scaling: plain ffmpeg on one core, one node on one core, and N nodes each on its own core
 * (`taskset -c K`, mDNS on loopback, one swarm key, worker.slots 1 and worker.threads 1). Beside
 * them, the ceiling of any split on this machine: N plain ffmpeg runs at once, each pinned to its
 * own core and converting 1/N of the file.
 *
 * node --experimental-strip-types bench/scaling.ts [--nodes 2] [--seconds 60] [--height 720] [--segment-seconds S]
 * [--rounds 3] [--profile h264|h265] [--skip-single]
 *
 * `--skip-single` leaves out the one-node run, which the goal does not need: on a long file it is
 * the slowest run of a round.
 *
 * A shared virtual machine's cores change speed from minute to minute (the same 6 s encode was
 * seen to take 2.7 to 4.0 CPU seconds), so plain ffmpeg and the node runs are interleaved and
 * repeated for several rounds; each round gives a speedup, and the figure is their median.
 * Beside each, the CPU seconds the run took in all (nodes, their ffmpeg children and the submitting
 * CLI) against plain ffmpeg's: the extra work ffmesh does, which no split can hide.
 */
import os from 'node:os'
import path from 'node:path'
import { benchTempDir, removeBenchTempDir } from './lib/cleanup.ts'
import { recordEvents, unitTimeline } from './lib/event-recorder.ts'
import { describeMachineCpu, machineCpu, machineCpuSince, type MachineCpu } from './lib/machine-cpu.ts'
import { ffmeshJson, jobCpuSeconds, submitAndWait, type NodeProcess } from './lib/node-processes.ts'
import { startPinnedMesh } from './lib/pinned-mesh.ts'
import { plainArgv, plainProfile, runPlain, type PlainProfile } from './lib/plain-ffmpeg.ts'
import {
  argFlag,
  argNumber,
  argOptionalNumber,
  argValue,
  childCpuSeconds,
  commandLine,
  goal,
  loadNote,
  median,
  printTable,
  seconds
} from './lib/report.ts'
import { countVideoFrames, describeSample, makeBenchSample } from './lib/samples.ts'

/**
 * The goals for 2 nodes: 1.85x on a file of 3 minutes or more (the 3- and 10-minute
 * samples), 1.7x on a shorter one (the 60 s sample), whose fixed costs (the cut, the assembly, the
 * output check, the last unit) weigh more; for N nodes the same efficiency per node.
 */
const EFFICIENCY_GOAL = 0.925
const SHORT_FILE_EFFICIENCY_GOAL = 0.85
const LONG_FILE_SEC = 180
const MESH_TIMEOUT_MS = 90_000

interface JobStatusDoc {
  state: string
  output: string | null
  error: { code: string; message: string } | null
  units: Array<{ index: number; kind: string; worker: string | null }>
}

async function runMesh (
  count: number,
  source: string,
  work: string,
  segmentSeconds: number | undefined,
  profile: PlainProfile
): Promise<{
  wallMs: number
  cpuSec: number
  machine: MachineCpu
  unitsBy: string
  frames: number
  timeline: Array<Array<string | number>>
}> {
  const cores = os.availableParallelism()
  const mesh = await startPinnedMesh(count, {
    name: `bench-${count}`,
    segmentSeconds,
    cores: Array.from({ length: cores }, (_, k) => k),
    peersTimeoutMs: MESH_TIMEOUT_MS
  })
  const { nodes, peerIds } = mesh
  try {
    const outDir = path.join(work, `mesh-${count}`)
    const owner = nodes[0] as NodeProcess
    const recorder = await recordEvents(owner.dataDir)
    const t0 = Date.now()
    const cpu0 = jobCpuSeconds(nodes)
    const machine0 = machineCpu()
    const { id, wallMs } = await submitAndWait(owner.dataDir, source, outDir, { profile })
    const machine = machineCpuSince(machine0)
    const cpuSec = jobCpuSeconds(nodes) - cpu0
    recorder.close()
    const timeline = unitTimeline(recorder.events, id, t0, peer => `node ${peerIds.indexOf(peer ?? '')}`)
    const at = (type: string): string => {
      const e = recorder.events.find(x => x.jobId === id && x.type === type)
      return e == null ? '-' : ((e.time - t0) / 1000).toFixed(1)
    }
    timeline.unshift(['job:planned', '', at('job:planned'), '', ''])
    timeline.push(['job:assembling', '', at('job:assembling'), '', ''], ['job:done', '', at('job:done'), '', ''])
    const status = await ffmeshJson<JobStatusDoc>(owner.dataDir, ['status', id])
    if (status.state !== 'done' || status.output == null) {
      throw new Error(`the job ended ${status.state}: ${status.error?.code ?? ''} ${status.error?.message ?? ''}`)
    }
    const counts = peerIds.map((p, i) => `node ${i}: ${status.units.filter(u => u.worker === p).length}`)
    return {
      wallMs,
      cpuSec,
      machine,
      unitsBy: `${status.units.length} units (${counts.join(', ')})`,
      frames: await countVideoFrames(status.output),
      timeline
    }
  } finally {
    await mesh.close()
  }
}

async function main (): Promise<void> {
  const count = argNumber('nodes', 2)
  const height = argNumber('height', 720)
  const sample = { width: Math.round(height * 16 / 9 / 2) * 2, height, seconds: argNumber('seconds', 60) }
  // Left out, the nodes' default: the planner chooses the cut from the file and the mesh.
  const segmentSeconds = argOptionalNumber('segment-seconds')
  const profile = plainProfile(argValue('profile'))
  const cores = os.availableParallelism()
  console.log(
    `bench/scaling: plain ffmpeg on 1 core vs 1 and ${count} nodes pinned to one core each (slots 1, threads 1), profile ${profile}`
  )
  console.log(
    `sample: ${describeSample(sample)}; segmentSeconds ${segmentSeconds ?? 'the node default'}; ${loadNote()}`
  )
  if (count > cores) {
    console.log(
      `note: ${count} nodes on ${cores} CPUs share cores (node K runs on core K mod ${cores}); speedups will be capped`
    )
  }
  const source = await makeBenchSample(sample)
  const sourceFrames = await countVideoFrames(source)
  const work = await benchTempDir('ffmesh-bench-scaling-')
  const rows: Array<Array<string | number>> = []
  const timelines: Array<{ nodes: number, rows: Array<Array<string | number>> }> = []
  const rounds = Math.max(1, argNumber('rounds', 3))
  const meshCounts = count === 1 ? [1] : argFlag('skip-single') ? [count] : [1, count]
  const plainMs: number[] = []
  const ceilingMs: number[] = []
  // CPU seconds per run: the work each way costs, which the VM's changing core speed moves less.
  const cpu = new Map<string, number[]>()
  const addCpu = (row: string, sec: number): void => { cpu.set(row, [...(cpu.get(row) ?? []), sec]) }
  const meshMs = new Map<number, number[]>(meshCounts.map(n => [n, []]))
  const unitsBy = new Map<number, string>()
  let speedupN = 0
  /**
   * The N-node run's speed against the ceiling of its own round (the ceiling's wall over the mesh's):
   * two runs on all cores, close in time, so a host whose speed drifts from one minute to the next
   * moves both. Null without a ceiling.
   */
  let ofCeiling: number[] | null = null
  try {
    for (let round = 1; round <= rounds; round++) {
      const plain = await runPlain(plainArgv(source, path.join(work, 'plain.mkv'), { profile, threads: 1, pinCore: 0 }))
      plainMs.push(plain.wallMs)
      addCpu('plain', plain.cpuSec)
      console.log(
        `  round ${round}: plain ffmpeg on core 0: ${seconds(plain.wallMs)} s (${plain.argv.join(' ')}); ${loadNote()}`
      )
      if (count > 1) {
        // The ceiling for any split: N plain ffmpeg runs at once, each on 1/N of the file and its own core.
        const share = sample.seconds / count
        const t0 = performance.now()
        // Measured around all of them: each run's own figure would also count the others that ended meanwhile.
        const cpu0 = childCpuSeconds()
        const machine0 = machineCpu()
        await Promise.all(
          Array.from({ length: count }, (_, k) =>
            runPlain(
              plainArgv(source, path.join(work, `slice-${k}.mkv`), {
                profile,
                threads: 1,
                pinCore: k % cores,
                slice: { start: k * share, seconds: share }
              })
            )
          )
        )
        ceilingMs.push(performance.now() - t0)
        addCpu('ceiling', childCpuSeconds() - cpu0)
        const machine = machineCpuSince(machine0)
        console.log(
          `  round ${round}: ${count} plain ffmpeg runs at once, 1/${count} of the file each: ${seconds(ceilingMs.at(-1) as number)} s (${(plain.wallMs / (ceilingMs.at(-1) as number)).toFixed(2)}x)`
        )
        console.log(`    the machine: ${describeMachineCpu(machine, ceilingMs.at(-1) as number, cores)}`)
      }
      for (const n of meshCounts) {
        const mesh = await runMesh(n, source, work, segmentSeconds, profile)
        if (mesh.frames !== sourceFrames) {
          throw new Error(`the ${n}-node output has ${mesh.frames} frames, the source ${sourceFrames}`)
        }
        meshMs.get(n)?.push(mesh.wallMs)
        addCpu(`mesh-${n}`, mesh.cpuSec)
        console.log(
          `  round ${round}: ${n} node(s): ${seconds(mesh.wallMs)} s (${(plain.wallMs / mesh.wallMs).toFixed(2)}x this round), ${mesh.unitsBy}; ${loadNote()}`
        )
        console.log(`    the machine: ${describeMachineCpu(mesh.machine, mesh.wallMs, cores)}`)
        unitsBy.set(n, mesh.unitsBy)
        if (round === rounds) timelines.push({ nodes: n, rows: mesh.timeline })
      }
    }
    // Each round's ratio pairs runs minutes apart at most; the median of those ratios is the figure.
    const plainCpu = cpu.get('plain') ?? []
    const cpuRatios = (key: string): number[] => (cpu.get(key) ?? []).map((sec, i) => sec / (plainCpu[i] as number))
    const cpuRatio = (key: string, round: number): string => (cpuRatios(key)[round] ?? NaN).toFixed(2)
    const cpuCell = (key: string): string =>
      `${median(cpu.get(key) ?? []).toFixed(1)} (${median(cpuRatios(key)).toFixed(2)})`
    rows.push([
      'plain ffmpeg, core 0, -threads 1',
      seconds(median(plainMs)),
      '1.00',
      cpuCell('plain'),
      '-',
      plainMs.map(seconds).join(' ')
    ])
    if (ceilingMs.length > 0) {
      const ratios = ceilingMs.map((ms, i) => (plainMs[i] as number) / ms)
      rows.push([
        `ceiling: ${count} plain ffmpeg, 1/${count} of the file each`,
        seconds(median(ceilingMs)),
        median(ratios).toFixed(2),
        cpuCell('ceiling'),
        '-',
        ceilingMs
          .map((ms, i) => `${seconds(ms)} (${(ratios[i] as number).toFixed(2)}x, CPU ${cpuRatio('ceiling', i)})`)
          .join(' ')
      ])
    }
    for (const n of meshCounts) {
      const runs = meshMs.get(n) ?? []
      const ratios = runs.map((ms, i) => (plainMs[i] as number) / ms)
      speedupN = median(ratios)
      if (n === count && ceilingMs.length === runs.length) {
        ofCeiling = runs.map((ms, i) => (ceilingMs[i] as number) / ms)
      }
      rows.push([
        `${n} node${n > 1 ? 's' : ''}, one core each`,
        seconds(median(runs)),
        speedupN.toFixed(2),
        cpuCell(`mesh-${n}`),
        unitsBy.get(n) ?? '',
        runs
          .map((ms, i) => `${seconds(ms)} (${(ratios[i] as number).toFixed(2)}x, CPU ${cpuRatio(`mesh-${n}`, i)})`)
          .join(' ')
      ])
    }
  } finally {
    await removeBenchTempDir(work)
  }
  for (const t of timelines) {
    console.log(`\nunits of the ${t.nodes}-node run, seconds from submit (owner's events):`)
    printTable(['unit', 'worker', 'granted', 'verified', 'took'], t.rows)
  }
  const target = count * (sample.seconds >= LONG_FILE_SEC ? EFFICIENCY_GOAL : SHORT_FILE_EFFICIENCY_GOAL)
  console.log('')
  printTable(
    [
      'run',
      `median wall s (${rounds} rounds)`,
      'median speedup',
      'CPU s (x plain)',
      'units (last round)',
      'each round: s (speedup, CPU x plain)'
    ],
    rows
  )
  console.log(
    `\ngoal: ${count} nodes at least ${target.toFixed(2)}x plain ffmpeg on one core: ${goal(speedupN >= target)} (${speedupN.toFixed(3)}x)`
  )
  if (ofCeiling != null) {
    console.log(
      `${count} nodes against the ceiling of the same round: ${ofCeiling.map(r => r.toFixed(2)).join(' ')}; median ${median(ofCeiling).toFixed(3)}`
    )
  }
  console.log(`command: ${commandLine()}`)
  console.log(
    JSON.stringify({
      bench: 'scaling',
      profile,
      sample,
      segmentSeconds: segmentSeconds ?? null,
      nodes: count,
      rounds,
      rows,
      speedup: speedupN,
      ofCeiling: ofCeiling == null ? null : median(ofCeiling),
      goal: target
    })
  )
}

await main()
