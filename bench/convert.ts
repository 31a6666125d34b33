/**
 * bench/convert: ONE node against one plain ffmpeg command with the same encoder settings on the
 * same cores, end to end from submit to the verified output in place. Prints wall times, the ratio
 * node/ffmpeg, CPU seconds, and where the node's time went.
 *
 *   node --experimental-strip-types bench/convert.ts [--seconds 60] [--segment-seconds 20]
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import type { NodeEvent } from '@ffmesh/protocol'
import { startNode } from '../packages/node/dist/index.js'
import { jobPhases, unitLines, type Phase } from './lib/job-phases.ts'
import { makeNodeDir, removeNodeDir } from './lib/node-dirs.ts'
import { plainArgv, runPlain, type PlainRun } from './lib/plain-ffmpeg.ts'
import {
  argNumber,
  childCpuSeconds,
  commandLine,
  goal,
  loadNote,
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
interface NodeSetup { label: string, slots?: number, threads: number, goal: boolean }
const SETUPS: NodeSetup[] = [
  { label: 'default slots, threads 0', threads: 0, goal: true },
  { label: 'slots 2, threads 1', slots: 2, threads: 1, goal: false }
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

async function runNode (source: string, outDir: string, setup: NodeSetup, segmentSeconds: number): Promise<NodeRun> {
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

async function main (): Promise<void> {
  const sample = { width: 1280, height: 720, seconds: argNumber('seconds', 60) }
  const segmentSeconds = argNumber('segment-seconds', 20)
  console.log(`bench/convert: one node vs plain ffmpeg, profile h264 (libx264 -crf 23 -preset medium, aac 160k)`)
  console.log(`sample: ${describeSample(sample)}; segmentSeconds ${segmentSeconds}; ${loadNote()}`)
  const source = await makeBenchSample(sample)
  const sourceFrames = await countVideoFrames(source)
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-bench-convert-'))
  const results: Array<{ setup: NodeSetup, plain: PlainRun, node: NodeRun }> = []
  try {
    // Plain ffmpeg with its default threads on all cores, before and after every node run; each node
    // run is compared with the mean of the two baselines beside it, so both saw about the same load.
    const baseline = async (): Promise<PlainRun> => {
      const plain = await runPlain(plainArgv(source, path.join(work, 'plain.mkv'), { threads: 0 }))
      console.log(`  plain ffmpeg: ${seconds(plain.wallMs)} s; ${loadNote()}`)
      return plain
    }
    let before = await baseline()
    console.log(`    (${before.argv.join(' ')})`)
    for (const setup of SETUPS) {
      const outDir = path.join(work, `node-${results.length}`)
      const node = await runNode(source, outDir, setup, segmentSeconds)
      console.log(`  node (${setup.label}, slots ${node.slots}): ${seconds(node.wallMs)} s; ${loadNote()}`)
      if (node.frames !== sourceFrames) {
        throw new Error(`the node's output has ${node.frames} frames, the source ${sourceFrames}`)
      }
      const after = await baseline()
      const plain = {
        wallMs: (before.wallMs + after.wallMs) / 2,
        cpuSec: (before.cpuSec + after.cpuSec) / 2,
        argv: before.argv
      }
      results.push({ setup, plain, node })
      before = after
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true })
  }

  console.log('')
  printTable(
    ['run', 'ffmpeg s (mean of 2)', 'node s', 'node/ffmpeg', 'ffmpeg CPU s', 'node CPU s (ffmpeg + node)', 'result'],
    results.map(r => [
      `${r.setup.label} (slots ${r.node.slots})`,
      seconds(r.plain.wallMs),
      seconds(r.node.wallMs),
      (r.node.wallMs / r.plain.wallMs).toFixed(3),
      r.plain.cpuSec.toFixed(1),
      `${r.node.cpuSec.toFixed(1)} + ${r.node.nodeCpuSec.toFixed(1)}`,
      r.setup.goal ? goal(r.node.wallMs / r.plain.wallMs <= GOAL_RATIO) : '-'
    ])
  )
  for (const r of results) {
    console.log(`\nwhere the node's time went (${r.setup.label}, slots ${r.node.slots}), seconds:`)
    printTable(['phase', 's', 'what'], r.node.phases.map(p => [p.name, seconds(p.ms), p.what]))
    printTable(['unit', 'wait for slot s', 'encode s', 'return + verify s', 'grant to verified s'], r.node.units)
  }
  const defaults = results.find(r => r.setup.goal)
  const ratio = defaults != null ? defaults.node.wallMs / defaults.plain.wallMs : NaN
  console.log(
    `\ngoal: one node with its defaults, node/ffmpeg <= ${GOAL_RATIO.toFixed(2)}: ${goal(ratio <= GOAL_RATIO)} ` +
      `(${ratio.toFixed(3)}); output frames equal the source (${sourceFrames})`
  )
  console.log(`command: ${commandLine()}`)
  console.log(
    JSON.stringify({
      bench: 'convert',
      sample,
      segmentSeconds,
      runs: results.map(r => ({
        setup: r.setup.label,
        slots: r.node.slots,
        ffmpegSec: r.plain.wallMs / 1000,
        nodeSec: r.node.wallMs / 1000,
        ratio: r.node.wallMs / r.plain.wallMs,
        ffmpegCpuSec: r.plain.cpuSec,
        nodeFfmpegCpuSec: r.node.cpuSec,
        nodeJsCpuSec: r.node.nodeCpuSec
      }))
    })
  )
}

await main()
