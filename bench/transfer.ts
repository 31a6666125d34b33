/**
 * Blob transfer throughput: 1 GiB over the ffmesh blob protocol (libp2p TCP + Noise + yamux,
 * SHA-512 verified, written to disk) between two mesh nodes on loopback, against raw TCP + SHA-512
 * + disk in the same run. Each side runs in its own child process (lib/transfer-peer.js) so its
 * peak RSS is its own. Each side's CPU seconds (every thread) are printed too: on a shared VM they
 * move less than throughput does, so they show what a change to the transfer path costs.
 *
 *   npm run build && node --experimental-strip-types bench/transfer.ts [--mib 1024] [--rounds 3]
 *
 * Goals: mesh/raw ratio >= 0.6, peak RSS < 200 MB on each side.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchTempDir, removeBenchTempDir } from './lib/cleanup.ts'
import { argNumber, loadNote, median } from './lib/report.ts'

type Msg = Record<string, unknown> & { type: string }
const PEER = fileURLToPath(new URL('./lib/transfer-peer.js', import.meta.url))
const RATIO_GOAL = 0.6
const RSS_GOAL_MB = 200

const nextMessage = async (child: ChildProcess, type: string): Promise<Msg> => await new Promise((resolve, reject) => {
  const onMsg = (m: Msg): void => { if (m.type === type) { child.off('message', onMsg); resolve(m) } }
  child.on('message', onMsg)
  child.once('exit', code => { reject(new Error(`child exited (${String(code)}) before ${type}`)) })
})

interface PairRun { ms: number, clientRss: number, serverRss: number, clientCpu: number, serverCpu: number }

async function pair (serverMode: string, clientMode: string, env: NodeJS.ProcessEnv): Promise<PairRun> {
  // The peers run without the TypeScript loader, as the compiled node does (see transfer-peer.js).
  const opts = { env: { ...process.env, ...env }, execArgv: [] }
  const server = fork(PEER, [serverMode], opts)
  const ready = await nextMessage(server, 'ready')
  const client = fork(PEER, [clientMode], opts)
  client.send({ ...ready, type: 'go' })
  const done = await nextMessage(client, 'done')
  server.send({ type: 'finish' })
  const rss = await nextMessage(server, 'rss')
  await Promise.all(
    [server, client].map(
      async c => await new Promise(resolve => (c.exitCode != null ? resolve(null) : c.once('exit', resolve)))
    )
  )
  return {
    ms: done.ms as number,
    clientRss: done.rssMb as number,
    serverRss: rss.rssMb as number,
    clientCpu: done.cpuSec as number,
    serverCpu: rss.cpuSec as number
  }
}

async function main (): Promise<void> {
  const mib = argNumber('mib', 1024)
  const size = mib * 1024 * 1024
  const work = await benchTempDir('ffmesh-bench-transfer-')
  try {
    // 16 MiB of random bytes repeated: incompressible enough, and quick to write.
    const block = randomBytes(16 * 1024 * 1024)
    const hasher = createHash('sha512')
    const fh = await fs.open(path.join(work, 'source.bin'), 'w')
    for (let done = 0; done < size; done += block.length) {
      const piece = block.subarray(0, Math.min(block.length, size - done))
      hasher.update(piece)
      await fh.write(piece)
    }
    await fh.close()
    const env = {
      BENCH_DIR: work,
      BENCH_HASH: hasher.digest('hex'),
      BENCH_SIZE: String(size),
      BENCH_SWARM_KEY: randomBytes(32).toString('hex')
    }
    const mbps = (ms: number): number => size / 1e6 / (ms / 1000)
    const rounds: Array<{ raw: PairRun, mesh: PairRun, ratio: number }> = []
    for (let round = 1; round <= Math.max(1, argNumber('rounds', 3)); round++) {
      const raw = await pair('tcp-server', 'tcp-client', env)
      const mesh = await pair('mesh-server', 'mesh-client', env)
      rounds.push({ raw, mesh, ratio: mbps(mesh.ms) / mbps(raw.ms) })
      console.log(
        `  round ${round}: raw TCP+SHA-512 ${mbps(raw.ms).toFixed(1)} MB/s, mesh ${mbps(mesh.ms).toFixed(1)} MB/s, ratio ${(mbps(mesh.ms) / mbps(raw.ms)).toFixed(2)}; CPU s server/client mesh ${mesh.serverCpu.toFixed(2)} / ${mesh.clientCpu.toFixed(2)}, raw ${raw.serverCpu.toFixed(2)} / ${raw.clientCpu.toFixed(2)}; peak RSS mesh ${Math.round(mesh.serverRss)} / ${Math.round(mesh.clientRss)} MB; ${loadNote()}`
      )
    }
    // The ratio is the median round's; memory is the worst round's.
    const ratio = median(rounds.map(r => r.ratio))
    const peak = (pick: (r: typeof rounds[number]) => number): number => Math.round(Math.max(...rounds.map(pick)))
    const cpuMedian = (pick: (r: (typeof rounds)[number]) => number): number =>
      Number(median(rounds.map(pick)).toFixed(2))
    const result = {
      bytes: size,
      rounds: rounds.length,
      rawTcpMBps: Number(median(rounds.map(r => mbps(r.raw.ms))).toFixed(1)),
      meshMBps: Number(median(rounds.map(r => mbps(r.mesh.ms))).toFixed(1)),
      ratio: Number(ratio.toFixed(2)),
      ratioGoal: RATIO_GOAL,
      peakRssMb: {
        rawServer: peak(r => r.raw.serverRss),
        rawClient: peak(r => r.raw.clientRss),
        meshServer: peak(r => r.mesh.serverRss),
        meshClient: peak(r => r.mesh.clientRss)
      },
      rssGoalMb: RSS_GOAL_MB,
      cpuSec: {
        rawServer: cpuMedian(r => r.raw.serverCpu),
        rawClient: cpuMedian(r => r.raw.clientCpu),
        meshServer: cpuMedian(r => r.mesh.serverCpu),
        meshClient: cpuMedian(r => r.mesh.clientCpu)
      },
      pass: false
    }
    result.pass =
      ratio >= RATIO_GOAL && result.peakRssMb.meshServer < RSS_GOAL_MB && result.peakRssMb.meshClient < RSS_GOAL_MB
    console.log(
      `transfer ${mib} MiB, median of ${rounds.length} rounds: raw TCP+SHA-512 ${result.rawTcpMBps} MB/s, mesh blob protocol ${result.meshMBps} MB/s, ratio ${result.ratio} (goal >= ${RATIO_GOAL})`
    )
    console.log(
      `peak RSS (worst round): mesh server ${result.peakRssMb.meshServer} MB, mesh client ${result.peakRssMb.meshClient} MB (goal < ${RSS_GOAL_MB}); raw server ${result.peakRssMb.rawServer} MB, raw client ${result.peakRssMb.rawClient} MB`
    )
    console.log(
      `CPU s (median): mesh server ${result.cpuSec.meshServer}, mesh client ${result.cpuSec.meshClient}; raw server ${result.cpuSec.rawServer}, raw client ${result.cpuSec.rawClient}`
    )
    console.log(JSON.stringify(result))
    if (!result.pass) process.exitCode = 1
  } finally {
    await removeBenchTempDir(work)
  }
}

await main()
