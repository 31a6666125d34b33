// A mesh-only node for multi-process tests: starts createLibp2pMesh from the built package and
// prints one JSON line per event on stdout ({event:'started'}, then {event:'peers'} on change).
// Env: FFMESH_SWARM_KEY (64 hex), FFMESH_DIR (data dir), FFMESH_NAME, FFMESH_LISTEN (optional).
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pino } from 'pino'
import { dataPaths } from '../../packages/node/dist/config/paths.js'
import { createLibp2pMesh } from '../../packages/node/dist/mesh/index.js'

const swarmKey = Uint8Array.from(Buffer.from(process.env.FFMESH_SWARM_KEY ?? '', 'hex'))
const name = process.env.FFMESH_NAME ?? 'mesh-node'
const mesh = await createLibp2pMesh({
  privateKey: await generateKeyPair('Ed25519'),
  swarmKey,
  config: {
    enabled: true,
    listen: [process.env.FFMESH_LISTEN ?? '/ip4/0.0.0.0/tcp/0'],
    bootstrap: [],
    mdns: true,
    allowPeers: [],
    advertiseSeconds: 0.5
  },
  name,
  version: '0.0.0-test',
  paths: dataPaths(process.env.FFMESH_DIR ?? `/tmp/ffmesh-mesh-node-${process.pid}`),
  logger: pino({ level: process.env.FFMESH_LOG ?? 'silent' }, pino.destination(2))
})
await mesh.start()
mesh.setCapacity({ name, version: '0.0.0-test', slotsTotal: 1, slotsFree: 1, encoders: ['libx264'], diskFree: 1e9, queue: 0 })
const say = (value) => { process.stdout.write(JSON.stringify(value) + '\n') }
say({ event: 'started', peerId: mesh.peerId, addrs: mesh.multiaddrs() })

let last = ''
const timer = setInterval(() => {
  const peers = mesh.peers().map(p => p.id).sort()
  const text = JSON.stringify(peers)
  if (text !== last) { last = text; say({ event: 'peers', peers }) }
}, 200)

const stop = async () => {
  clearInterval(timer)
  await mesh.stop()
  process.exit(0)
}
process.once('SIGTERM', () => { void stop() })
process.once('SIGINT', () => { void stop() })
