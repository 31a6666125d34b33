/**
 * bench/convert: ONE node against one plain ffmpeg command with the same encoder settings on the
 * same cores, end to end from submit to the verified output in place. Prints wall times, the ratio
 * node/ffmpeg, CPU seconds, and where the node's time went.
 *
 *   node --experimental-strip-types bench/convert.ts [--seconds 60] [--segment-seconds N] [--rounds 3]
 *
 * Each round runs every node setup once; plain ffmpeg runs before the first round and after each,
 * and the figure is the median over the rounds of each node run against the plain runs around it.
 */
import path from 'node:path'
import { pino } from 'pino'
import type { NodeEvent } from '@ffmesh/protocol'
import { startNode } from '../packages/node/dist/index.js'
import { benchTempDir, removeBenchTempDir } from './lib/cleanup.ts'
import { jobPhases, unitLines, type Phase } from './lib/job-phases.ts'
import { makeNodeDir, removeNodeDir } from './lib/node-dirs.ts'
import { plainArgv, runPlain, type PlainRun } from './lib/plain-ffmpeg.ts'
import {
  argNumber,
  argOptionalNumber,
  childCpuSeconds,
  commandLine,
  goal,
  loadNote,
  median,
  printTable,
  seconds,
  selfCpuSeconds
} from './lib/report.ts'
import { countVideoFrames, describeSample, makeBenchSample } from './lib/samples.ts'
import { createTimedMediaToolkit, type MediaSpan } from './lib/timed-media.ts'

/** The goal: one node with its defaults within 3% of plain ffmpeg on the same cores. */
const GOAL_RATIO = 1.03
/** A 1-minute 720p x264 medium encode takes about a minute on 2 cores; this is far past it. */
const JOB_TIMEOUT_MS = 30 * 60_000

/** The goal is the defaults' (`goal`); the other setup is printed beside it. */
interface NodeSetup { label: string, slots?: number, threads?: number, goal: boolean }
const SETUPS: NodeSetup[] = [
  { label: 'defaults', goal: true },
  { label: 'threads 0, one ffmpeg on the encoder\'s threads', slots: 1, threads: 0, goal: false }
]

interface NodeRun {
  wallMs: number
  cpuSec: number
  nodeCpuSec: number
  slots: number
  phases: Phase[]
  units: Array<Array<string | number>>
  frames: number
}

async function runNode (
  source: string,
  outDir: string,
  setup: NodeSetup,
  segmentSeconds: number | undefined
): Promise<NodeRun> {
  const { dir } = await makeNodeDir({
    name: 'bench-convert',
    slots: setup.slots,
    threads: setup.threads,
    segmentSeconds,
    mesh: { enabled: true, mdns: false }
  })
  const spans: MediaSpan[] = []
  const node = await startNode({
    dataDir: dir,
    logger: pino({ level: 'silent' }),
    media: createTimedMediaToolkit(spans)
  })
  try {
    const events: NodeEvent[] = []
    let jobId: string | null = null
    let timer: NodeJS.Timeout | undefined
    const ended = new Promise<NodeEvent>((resolve, reject) => {
      node.api.onEvent(e => {
        events.push(e)
        if (e.jobId === jobId && (e.type === 'job:done' || e.type === 'job:failed' || e.type === 'job:cancelled')) {
          resolve(e)
        }
      })
      timer = setTimeout(
        () => reject(new Error(`the node did not finish within ${JOB_TIMEOUT_MS / 60_000} min`)),
        JOB_TIMEOUT_MS
      )
    })
    const cpu0 = childCpuSeconds()
    const self0 = selfCpuSeconds()
    const t0 = Date.now()
    jobId = (await node.api.submit({ source, profile: 'h264', outDir })).id
    const submitReturned = Date.now()
    const end = await ended.finally(() => clearTimeout(timer))
    const t1 = Date.now()
    const cpuSec = childCpuSeconds() - cpu0
    const nodeCpuSec = selfCpuSeconds() - self0
    const status = node.api.getJob(jobId)
    if (end.type !== 'job:done' || status.output == null) {
      throw new Error(`the job ended ${status.state}: ${status.error?.code ?? ''} ${status.error?.message ?? ''}`)
    }
    const own = events.filter(e => e.jobId === jobId)
    return {
      wallMs: t1 - t0,
      cpuSec,
      nodeCpuSec,
      slots: node.api.info().slots,
      phases: jobPhases({ t0, submitReturned, end: t1, events: own, spans }),
      units: unitLines(own, spans),
      frames: await countVideoFrames(status.output)
    }
  } finally {
    await node.stop()
    await removeNodeDir(dir)
  }
}

interface RoundRun { setup: NodeSetup, plain: PlainRun, node: NodeRun }

async function main (): Promise<void> {
  const sample = { width: 1280, height: 720, seconds: argNumber('seconds', 60) }
  // The node's own default unless told otherwise: the figure is for a node as it ships.
  const segmentSeconds = argOptionalNumber('segment-seconds')
  const rounds = Math.max(1, argNumber('rounds', 3))
  console.log(`bench/convert: one node vs plain ffmpeg, profile h264 (libx264 -crf 23 -preset medium, aac 160k)`)
  console.log(`sample: ${describeSample(sample)}; segmentSeconds ${segmentSeconds ?? 'the node default'}; ${loadNote()}`)
  const source = await makeBenchSample(sample)
  const sourceFrames = await countVideoFrames(source)
  const work = await benchTempDir('ffmesh-bench-convert-')
  const runs: RoundRun[] = []
  try {
    // Plain ffmpeg with its default threads on all cores runs before the first round and after
    // every round (plain, the node setups, plain, the setups, ...); each node run is compared with
    // the mean of the two plain runs around its round, so both saw about the same host.
    const baseline = async (round: number): Promise<PlainRun> => {
      const plain = await runPlain(plainArgv(source, path.join(work, 'plain.mkv'), { threads: 0 }))
      console.log(`  round ${round}: plain ffmpeg: ${seconds(plain.wallMs)} s; ${loadNote()}`)
      return plain
    }
    let before = await baseline(1)
    console.log(`    (${before.argv.join(' ')})`)
    for (let round = 1; round <= rounds; round++) {
      const nodes: Array<{ setup: NodeSetup, node: NodeRun }> = []
      for (const setup of SETUPS) {
        const outDir = path.join(work, `node-${runs.length + nodes.length}`)
        const node = await runNode(source, outDir, setup, segmentSeconds)
        console.log(`  round ${round}: node (${setup.label}, slots ${node.slots}): ${seconds(node.wallMs)} s; ${loadNote()}`)
        if (node.frames !== sourceFrames) {
          throw new Error(`the node's output has ${node.frames} frames, the source ${sourceFrames}`)
        }
        nodes.push({ setup, node })
      }
      const after = await baseline(round)
      const plain = {
        wallMs: (before.wallMs + after.wallMs) / 2,
        cpuSec: (before.cpuSec + after.cpuSec) / 2,
        argv: before.argv
      }
      runs.push(...nodes.map(n => ({ ...n, plain })))
      before = after
    }
  } finally {
    await removeBenchTempDir(work)
  }

  const ratio = (r: RoundRun): number => r.node.wallMs / r.plain.wallMs
  const bySetup = SETUPS.map(setup => {
    const of = runs.filter(r => r.setup === setup)
    return {
      setup,
      of,
      ratio: median(of.map(ratio)),
      plainSec: median(of.map(r => r.plain.wallMs)) / 1000,
      nodeSec: median(of.map(r => r.node.wallMs)) / 1000,
      plainCpuSec: median(of.map(r => r.plain.cpuSec)),
      nodeCpuSec: median(of.map(r => r.node.cpuSec)),
      nodeJsCpuSec: median(of.map(r => r.node.nodeCpuSec)),
      slots: of[0]?.node.slots ?? 0
    }
  })
  console.log('')
  printTable(
    ['run', 'ffmpeg s', 'node s', `median node/ffmpeg (${rounds} rounds)`, 'ffmpeg CPU s',
      'node CPU s (ffmpeg + node)', 'each round', 'result'],
    bySetup.map(s => [
      `${s.setup.label} (slots ${s.slots})`,
      s.plainSec.toFixed(1),
      s.nodeSec.toFixed(1),
      s.ratio.toFixed(3),
      s.plainCpuSec.toFixed(1),
      `${s.nodeCpuSec.toFixed(1)} + ${s.nodeJsCpuSec.toFixed(1)}`,
      s.of.map(r => ratio(r).toFixed(3)).join(' '),
      s.setup.goal ? goal(s.ratio <= GOAL_RATIO) : '-'
    ])
  )
  for (const setup of SETUPS) {
    const last = runs.filter(r => r.setup === setup).at(-1)
    if (last == null) continue
    console.log(`\nwhere the node's time went (${setup.label}, slots ${last.node.slots}, round ${rounds}), seconds:`)
    printTable(['phase', 's', 'what'], last.node.phases.map(p => [p.name, seconds(p.ms), p.what]))
    printTable(['unit', 'wait for slot s', 'encode s', 'return + verify s', 'grant to verified s'], last.node.units)
  }
  const defaults = bySetup.find(s => s.setup.goal)
  const goalRatio = defaults?.ratio ?? NaN
  console.log(
    `\ngoal: one node with its defaults, node/ffmpeg <= ${GOAL_RATIO.toFixed(2)}: ${goal(goalRatio <= GOAL_RATIO)} ` +
      `(${goalRatio.toFixed(3)}, median of ${rounds} rounds); output frames equal the source (${sourceFrames})`
  )
  console.log(`command: ${commandLine()}`)
  console.log(
    JSON.stringify({
      bench: 'convert',
      sample,
      segmentSeconds: segmentSeconds ?? null,
      rounds,
      runs: bySetup.map(s => ({
        setup: s.setup.label,
        slots: s.slots,
        ffmpegSec: s.plainSec,
        nodeSec: s.nodeSec,
        ratio: s.ratio,
        ratios: s.of.map(ratio),
        ffmpegCpuSec: s.plainCpuSec,
        nodeFfmpegCpuSec: s.nodeCpuSec,
        nodeJsCpuSec: s.nodeJsCpuSec
      }))
    })
  )
}

await main()
