/**
 * Blob transfer throughput: 1 GiB over the ffmesh blob protocol (libp2p TCP + Noise + yamux,
 * SHA-512 verified, written to disk) between two mesh nodes on loopback, against raw TCP + SHA-512
 * + disk in the same run. Each side runs in its own child process so its peak RSS is its own.
 *
 *   npm run build && node --experimental-strip-types bench/transfer.ts [--mib 1024]
 *
 * Goals (DESIGN): mesh/raw ratio >= 0.6, peak RSS < 200 MB on each side.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Libp2pMesh } from '../packages/node/dist/mesh/index.js'

type Msg = Record<string, unknown> & { type: string }
const SELF = fileURLToPath(import.meta.url)
const RATIO_GOAL = 0.6
const RSS_GOAL_MB = 200

const send = (m: Msg): void => { process.send?.(m) }
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024
const nextMessage = async (child: ChildProcess, type: string): Promise<Msg> => await new Promise((resolve, reject) => {
  const onMsg = (m: Msg): void => { if (m.type === type) { child.off('message', onMsg); resolve(m) } }
  child.on('message', onMsg)
  child.once('exit', code => { reject(new Error(`child exited (${String(code)}) before ${type}`)) })
})
const waitParent = async (type: string): Promise<Msg> => await new Promise(resolve => {
  const onMsg = (m: Msg): void => { if (m.type === type) { process.off('message', onMsg); resolve(m) } }
  process.on('message', onMsg)
})

async function startMesh (dir: string, bootstrap: string[]): Promise<Libp2pMesh> {
  const { createLibp2pMesh } = await import('../packages/node/dist/mesh/index.js')
  const { dataPaths } = await import('../packages/node/dist/config/paths.js')
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { pino } = await import('pino')
  const mesh = await createLibp2pMesh({
    privateKey: await generateKeyPair('Ed25519'),
    swarmKey: Uint8Array.from(Buffer.from(process.env.BENCH_SWARM_KEY ?? '', 'hex')),
    config: { enabled: true, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, mdns: false, allowPeers: [], advertiseSeconds: 5 },
    name: path.basename(dir),
    version: 'bench',
    paths: dataPaths(dir),
    logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }, pino.destination(2))
  })
  await mesh.start()
  return mesh
}

async function child (mode: string): Promise<void> {
  // A child whose parent died must not keep serving.
  process.once('disconnect', () => { process.exit(0) })
  const work = process.env.BENCH_DIR ?? os.tmpdir()
  const file = path.join(work, 'source.bin')
  const hash = process.env.BENCH_HASH ?? ''
  const size = Number(process.env.BENCH_SIZE)
  if (mode === 'mesh-server') {
    const mesh = await startMesh(path.join(work, 'server'), [])
    mesh.serveBlobs(async (_peer, h) => (h === hash ? file : null))
    send({ type: 'ready', peerId: mesh.peerId, addrs: mesh.multiaddrs() })
    await waitParent('finish')
    send({ type: 'rss', rssMb: peakRssMb() })
    await mesh.stop()
  } else if (mode === 'mesh-client') {
    const { addrs, peerId } = await waitParent('go') as unknown as { addrs: string[], peerId: string }
    const mesh = await startMesh(path.join(work, 'client'), addrs)
    while (!mesh.isConnected(peerId)) await new Promise(resolve => setTimeout(resolve, 50))
    const dest = path.join(work, 'mesh-copy.bin')
    const t0 = performance.now()
    await mesh.fetchBlob(peerId, { hash, size }, dest)
    const ms = performance.now() - t0
    send({ type: 'done', ms, rssMb: peakRssMb() })
    await fs.rm(dest, { force: true })
    await mesh.stop()
  } else if (mode === 'tcp-server') {
    const server = net.createServer(socket => { createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(socket) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    send({ type: 'ready', port: (server.address() as net.AddressInfo).port })
    await waitParent('finish')
    send({ type: 'rss', rssMb: peakRssMb() })
    server.close()
  } else if (mode === 'tcp-client') {
    const { port } = await waitParent('go') as unknown as { port: number }
    const dest = path.join(work, 'tcp-copy.bin')
    const fh = await fs.open(dest, 'w')
    const hasher = createHash('sha512')
    const t0 = performance.now()
    const socket = net.connect(port, '127.0.0.1')
    for await (const chunk of socket) { hasher.update(chunk as Buffer); await fh.write(chunk as Buffer) }
    await fh.sync()
    await fh.close()
    const ms = performance.now() - t0
    if (hasher.digest('hex') !== hash) throw new Error('raw TCP copy does not match')
    send({ type: 'done', ms, rssMb: peakRssMb() })
    await fs.rm(dest, { force: true })
  }
  process.disconnect?.()
}

async function pair (serverMode: string, clientMode: string, env: NodeJS.ProcessEnv): Promise<{ ms: number, clientRss: number, serverRss: number }> {
  const opts = { env: { ...process.env, ...env }, execArgv: ['--experimental-strip-types', '--no-warnings'] }
  const server = fork(SELF, [serverMode], opts)
  const ready = await nextMessage(server, 'ready')
  const client = fork(SELF, [clientMode], opts)
  client.send({ ...ready, type: 'go' })
  const done = await nextMessage(client, 'done')
  server.send({ type: 'finish' })
  const rss = await nextMessage(server, 'rss')
  await Promise.all([server, client].map(async c => await new Promise(resolve => c.exitCode != null ? resolve(null) : c.once('exit', resolve))))
  return { ms: done.ms as number, clientRss: done.rssMb as number, serverRss: rss.rssMb as number }
}

async function main (): Promise<void> {
  const mibArg = process.argv.indexOf('--mib')
  const mib = mibArg > 0 ? Number(process.argv[mibArg + 1]) : 1024
  const size = mib * 1024 * 1024
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-bench-transfer-'))
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
    const env = { BENCH_DIR: work, BENCH_HASH: hasher.digest('hex'), BENCH_SIZE: String(size), BENCH_SWARM_KEY: randomBytes(32).toString('hex') }
    const raw = await pair('tcp-server', 'tcp-client', env)
    const mesh = await pair('mesh-server', 'mesh-client', env)
    const mbps = (ms: number): number => size / 1e6 / (ms / 1000)
    const ratio = mbps(mesh.ms) / mbps(raw.ms)
    const result = {
      bytes: size,
      rawTcpMBps: Number(mbps(raw.ms).toFixed(1)),
      meshMBps: Number(mbps(mesh.ms).toFixed(1)),
      ratio: Number(ratio.toFixed(2)),
      ratioGoal: RATIO_GOAL,
      peakRssMb: { rawServer: Math.round(raw.serverRss), rawClient: Math.round(raw.clientRss), meshServer: Math.round(mesh.serverRss), meshClient: Math.round(mesh.clientRss) },
      rssGoalMb: RSS_GOAL_MB,
      pass: ratio >= RATIO_GOAL && mesh.serverRss < RSS_GOAL_MB && mesh.clientRss < RSS_GOAL_MB
    }
    console.log(`transfer ${mib} MiB: raw TCP+SHA-512 ${result.rawTcpMBps} MB/s, mesh blob protocol ${result.meshMBps} MB/s, ratio ${result.ratio} (goal >= ${RATIO_GOAL})`)
    console.log(`peak RSS: mesh server ${result.peakRssMb.meshServer} MB, mesh client ${result.peakRssMb.meshClient} MB (goal < ${RSS_GOAL_MB}); raw server ${result.peakRssMb.rawServer} MB, raw client ${result.peakRssMb.rawClient} MB`)
    console.log(JSON.stringify(result))
    if (!result.pass) process.exitCode = 1
  } finally {
    await fs.rm(work, { recursive: true, force: true })
  }
}

const mode = process.argv[2]
if (mode != null && !mode.startsWith('--')) {
  await child(mode).catch((err: unknown) => { console.error(`bench ${mode} failed:`, err); process.exit(1) })
} else {
  await main()
}
