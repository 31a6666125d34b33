/**
 * bench/idle: what connected nodes cost when nothing happens (a NAS or a laptop running ffmesh as a
 * service all day). N `ffmesh node` processes pinned to one core each, with the default config, find
 * each other by mDNS; after a settling pause the CPU seconds each spends over `--seconds` are read
 * from /proc, split into the main thread (JavaScript, timers, sockets) and the others (V8's
 * background GC and compiler, libuv's pool). It prints no goal: a node's own tick is a cost
 * every mesh job pays besides its ffmpeg work (see docs/benchmarks.md).
 *
 *   node --experimental-strip-types bench/idle.ts [--nodes 2] [--seconds 60]
 */
import fs from 'node:fs'
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { startPinnedMesh } from './lib/pinned-mesh.ts'
import { argNumber, commandLine, loadNote, printTable, statCpuSeconds } from './lib/report.ts'

const MESH_TIMEOUT_MS = 60_000
/** Start-up work (identify, peer store, first adverts and mDNS answers) ends well within this. */
const SETTLE_MS = 5_000

/** CPU seconds of a process's main thread and of all its other threads, from /proc/PID/task. */
function threadCpu (pid: number): { main: number, others: number } {
  let main = 0
  let others = 0
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let sec: number
    try { sec = statCpuSeconds(`/proc/${pid}/task/${tid}/stat`).self } catch { continue } // the thread ended
    if (tid === String(pid)) main += sec
    else others += sec
  }
  return { main, others }
}

async function main (): Promise<void> {
  const count = argNumber('nodes', 2)
  const seconds = argNumber('seconds', 60)
  const cores = Array.from({ length: count }, (_, i) => i % os.availableParallelism())
  console.log(`bench/idle: ${count} connected nodes, nothing to do, ${seconds} s; ${loadNote()}`)
  const mesh = await startPinnedMesh(count, {
    name: 'idle',
    segmentSeconds: 20,
    cores,
    peersTimeoutMs: MESH_TIMEOUT_MS
  })
  try {
    await sleep(SETTLE_MS)
    const before = mesh.nodes.map(n => threadCpu(n.child.pid as number))
    await sleep(seconds * 1000)
    const after = mesh.nodes.map(n => threadCpu(n.child.pid as number))
    printTable(
      ['node', 'core', 'main thread s', 'other threads s', 'CPU s per minute', '% of one core'],
      after.map((a, i) => {
        const b = before[i] as typeof a
        const total = a.main - b.main + (a.others - b.others)
        return [
          `node ${i}`,
          String(mesh.nodes[i]?.core ?? '-'),
          (a.main - b.main).toFixed(2),
          (a.others - b.others).toFixed(2),
          ((total * 60) / seconds).toFixed(2),
          ((total / seconds) * 100).toFixed(2)
        ]
      })
    )
    console.log(`command: ${commandLine()}`)
  } finally {
    await mesh.close()
  }
}

await main()
