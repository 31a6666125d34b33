// One side of bench/transfer.ts, run in its own process so its peak RSS is its own: a mesh node
// (libp2p + the blob protocol from packages/node/dist) or a raw TCP peer. Plain JavaScript, like
// the compiled node, so the TypeScript loader the benches run under does not count in its memory.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** @param {Record<string, unknown>} m */
const send = (m) => { process.send?.(m) }
const peakRssMb = () => process.resourceUsage().maxRSS / 1024
/** CPU seconds of this process, every thread (libuv's pool does the file I/O). */
const cpuSec = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }
/** @param {string} type @returns {Promise<Record<string, any>>} */
const waitParent = async (type) => await new Promise(resolve => {
  /** @param {Record<string, any>} m */
  const onMsg = (m) => { if (m.type === type) { process.off('message', onMsg); resolve(m) } }
  process.on('message', onMsg)
})

/** @param {string} dir @param {string[]} bootstrap */
async function startMesh (dir, bootstrap) {
  // Imported here, so the raw TCP peers carry none of it in their memory.
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { pino } = await import('pino')
  const { dataPaths } = await import('../../packages/node/dist/config/paths.js')
  const { createLibp2pMesh } = await import('../../packages/node/dist/mesh/index.js')
  const mesh = await createLibp2pMesh({
    privateKey: await generateKeyPair('Ed25519'),
    swarmKey: Uint8Array.from(Buffer.from(process.env.BENCH_SWARM_KEY ?? '', 'hex')),
    config: {
      enabled: true,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap,
      mdns: false,
      allowPeers: [],
      advertiseSeconds: 5
    },
    name: path.basename(dir),
    version: 'bench',
    paths: dataPaths(dir),
    logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }, pino.destination(2))
  })
  await mesh.start()
  return mesh
}

/** @param {string} mode */
async function run (mode) {
  const work = process.env.BENCH_DIR ?? os.tmpdir()
  const file = path.join(work, 'source.bin')
  const hash = process.env.BENCH_HASH ?? ''
  const size = Number(process.env.BENCH_SIZE)
  if (mode === 'mesh-server') {
    const mesh = await startMesh(path.join(work, 'server'), [])
    mesh.serveBlobs(async (_peer, h) => (h === hash ? file : null))
    const cpu0 = cpuSec()
    send({ type: 'ready', peerId: mesh.peerId, addrs: mesh.multiaddrs() })
    await waitParent('finish')
    send({ type: 'rss', rssMb: peakRssMb(), cpuSec: cpuSec() - cpu0 })
    await mesh.stop()
  } else if (mode === 'mesh-client') {
    const { addrs, peerId } = await waitParent('go')
    const mesh = await startMesh(path.join(work, 'client'), addrs)
    while (!mesh.isConnected(peerId)) await new Promise(resolve => setTimeout(resolve, 50))
    const dest = path.join(work, 'mesh-copy.bin')
    const t0 = performance.now()
    const cpu0 = cpuSec()
    await mesh.fetchBlob(peerId, { hash, size }, dest)
    const ms = performance.now() - t0
    send({ type: 'done', ms, rssMb: peakRssMb(), cpuSec: cpuSec() - cpu0 })
    await fs.rm(dest, { force: true })
    await mesh.stop()
  } else if (mode === 'tcp-server') {
    const server = net.createServer(socket => { createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(socket) })
    await new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(undefined)))
    const cpu0 = cpuSec()
    send({ type: 'ready', port: /** @type {net.AddressInfo} */ (server.address()).port })
    await waitParent('finish')
    send({ type: 'rss', rssMb: peakRssMb(), cpuSec: cpuSec() - cpu0 })
    server.close()
  } else if (mode === 'tcp-client') {
    const { port } = await waitParent('go')
    const dest = path.join(work, 'tcp-copy.bin')
    const fh = await fs.open(dest, 'w')
    const hasher = createHash('sha512')
    const t0 = performance.now()
    const cpu0 = cpuSec()
    const socket = net.connect(port, '127.0.0.1')
    for await (const chunk of socket) { hasher.update(chunk); await fh.write(chunk) }
    await fh.sync()
    await fh.close()
    const ms = performance.now() - t0
    if (hasher.digest('hex') !== hash) throw new Error('raw TCP copy does not match')
    send({ type: 'done', ms, rssMb: peakRssMb(), cpuSec: cpuSec() - cpu0 })
    await fs.rm(dest, { force: true })
  } else {
    throw new Error(`unknown transfer peer mode ${mode}`)
  }
  process.disconnect?.()
}

// A peer whose parent died must not keep serving.
process.once('disconnect', () => { process.exit(0) })
const mode = process.argv[2] ?? ''
await run(mode).catch((err) => { console.error(`bench ${mode} failed:`, err); process.exit(1) })
