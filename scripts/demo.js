#!/usr/bin/env node
// `npm run demo`: three ffmesh nodes on this machine (separate data dirs, one swarm key) find each
// other by mDNS on loopback and convert one generated sample together, with live progress per
// node; then it prints where the output is, who converted what, and how it was verified.
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import cliProgress from 'cli-progress'
import { stringify } from 'yaml'

const run = promisify(execFile)
const repo = fileURLToPath(new URL('..', import.meta.url))
const bin = path.join(repo, 'packages/cli/bin/ffmesh.js')
const work = path.resolve(process.env.FFMESH_DEMO_DIR ?? path.join(repo, 'demo-out'))
const names = ['node-a', 'node-b', 'node-c']
// Each node's dashboard, side by side on this machine: 7676 (the default), 7677, 7678.
const uiPorts = [7676, 7677, 7678]
const SAMPLE_SECONDS = Number(process.env.FFMESH_DEMO_SECONDS ?? 40)

const ffmesh = async (dataDir, ...args) => {
  const { stdout } = await run(process.execPath, [bin, ...args, '--data-dir', dataDir], { maxBuffer: 16 << 20 })
  return stdout
}
const json = async (dataDir, ...args) => JSON.parse(await ffmesh(dataDir, ...args, '--json'))
const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))
const sha512 = async (file) => {
  const h = createHash('sha512')
  for await (const chunk of createReadStream(file)) h.update(chunk)
  return h.digest('hex')
}
const probe = async (file) => {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_packets',
    '-show_entries',
    'stream=codec_type,codec_name,nb_read_packets:format=duration',
    '-of',
    'json',
    file
  ])
  return JSON.parse(stdout)
}

async function main () {
  await fs.rm(work, { recursive: true, force: true })
  await fs.mkdir(path.join(work, 'output'), { recursive: true })
  const sample = path.join(work, 'sample.mp4')
  console.log(`demo: generating a ${SAMPLE_SECONDS} s 640x360 sample with ffmpeg …`)
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=30:duration=${SAMPLE_SECONDS}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${SAMPLE_SECONDS}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '60',
    '-c:a',
    'aac',
    sample
  ])

  const dirs = names.map(n => path.join(work, n))
  for (const [i, dir] of dirs.entries()) {
    await run(process.execPath, [
      bin,
      'init',
      '--data-dir',
      dir,
      ...(i > 0 ? ['--swarm-key-file', path.join(dirs[0], 'swarm.key')] : [])
    ])
    await fs.writeFile(path.join(dir, 'config.yaml'), stringify({
      name: names[i],
      worker: { slots: 1, minFreeDisk: 0 },
      jobs: { segmentSeconds: 5, leaseSeconds: 30, heartbeatSeconds: 1 },
      mesh: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: true },
      ui: { listen: `127.0.0.1:${uiPorts[i]}` }
    }))
  }
  console.log(`demo: starting ${names.join(', ')} (logs in ${work}/<node>/node.log)`)
  const nodes = []
  for (const dir of dirs) {
    const log = await fs.open(path.join(dir, 'node.log'), 'w')
    const child = spawn(process.execPath, [bin, 'node', '--data-dir', dir], { stdio: ['ignore', log.fd, log.fd] })
    nodes.push({ child, log })
  }
  const stopAll = async () => {
    for (const n of nodes) n.child.kill('SIGTERM')
    await Promise.all(
      nodes.map(n => (n.child.exitCode != null ? null : new Promise(resolve => n.child.once('exit', resolve))))
    )
    for (const n of nodes) await n.log.close()
  }
  process.once('SIGINT', () => { stopAll().finally(() => process.exit(130)) })
  // A node that stops during start-up fails the demo at once, with the end of its log.
  const stillRunning = async () => {
    const i = nodes.findIndex(n => n.child.exitCode != null || n.child.signalCode != null)
    if (i < 0) return
    const logFile = path.join(dirs[i], 'node.log')
    const tail = (await fs.readFile(logFile, 'utf8')).trim().split('\n').slice(-5).join('\n')
    throw new Error(
      `${names[i]} stopped during start-up (${nodes[i].child.exitCode ?? nodes[i].child.signalCode}); the end of ${logFile}:\n${tail}`
    )
  }
  try {
    await waitFor(async () => {
      await stillRunning()
      return await ffmesh(dirs[0], 'status').then(
        () => true,
        () => false
      )
    }, 'node-a to answer')
    await waitFor(
      async () => {
        await stillRunning()
        return (await json(dirs[0], 'peers').catch(() => [])).length >= 2
      },
      'the nodes to find each other by mDNS',
      60_000
    )
    const peers = await json(dirs[0], 'peers')
    console.log(`demo: dashboards ${uiPorts.map((p, i) => `${names[i]} http://127.0.0.1:${p}/`).join('  ')}`)
    console.log(
      `demo: node-a sees ${peers.map(p => `${p.name} (${p.slotsFree} free slot${p.slotsFree === 1 ? '' : 's'})`).join(' and ')}`
    )

    const { id } = await json(dirs[0], 'submit', sample, '--profile', 'h264', '--out', path.join(work, 'output'))
    console.log(`demo: submitted job ${id} on node-a (profile h264); converting …`)
    const status = await follow(dirs[0], id, peers)
    if (status.state !== 'done') {
      throw new Error(`job ended ${status.state}: ${status.error?.code} ${status.error?.message}`)
    }
    await report(sample, status, peers)
  } finally {
    await stopAll()
  }
}

async function follow (dataDir, id, peers) {
  const self = (await json(dataDir, 'status', id)).owner
  const nameOf = (peer) => peer === self ? 'node-a' : peers.find(p => p.id === peer)?.name ?? peer.slice(-6)
  const bars = new cliProgress.MultiBar(
    {
      format: ' {name} |{bar}| {value}/{total} units {note}',
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: true,
      notTTYSchedule: 2000
    },
    cliProgress.Presets.shades_classic
  )
  const total = bars.create(1, 0, { name: 'job   ', note: '' })
  const perNode = new Map(names.map(n => [n, bars.create(1, 0, { name: n, note: '' })]))
  for (;;) {
    const s = await json(dataDir, 'status', id)
    const verified = s.units.filter(u => u.state === 'verified').length
    total.setTotal(Math.max(1, s.units.length))
    total.update(verified, { note: `${s.state} ${Math.round(s.progress * 100)}%` })
    for (const [name, bar] of perNode) {
      const mine = s.units.filter(u => u.worker != null && nameOf(u.worker) === name)
      const busy = mine.filter(u => u.state !== 'verified')
      bar.setTotal(Math.max(1, s.units.length))
      bar.update(mine.filter(u => u.state === 'verified').length, {
        note: busy.length > 0 ? `converting unit ${busy.map(u => u.index).join(', ')}` : ''
      })
    }
    if (['done', 'failed', 'cancelled'].includes(s.state)) {
      bars.stop()
      return { ...s, nameOf }
    }
    await sleep(500)
  }
}

async function report (sample, status, peers) {
  const src = await probe(sample)
  const out = await probe(status.output)
  const frames = (p) => Number(p.streams.find(s => s.codec_type === 'video')?.nb_read_packets)
  const byNode = new Map()
  for (const u of status.units) {
    byNode.set(status.nameOf(u.worker), [
      ...(byNode.get(status.nameOf(u.worker)) ?? []),
      `${u.index}${u.kind === 'audio' ? ' (audio)' : ''}`
    ])
  }
  console.log('\ndemo: done')
  console.log(`  output     ${status.output}`)
  console.log('  who did what')
  for (const [name, units] of [...byNode].sort()) console.log(`    ${name.padEnd(8)} units ${units.join(', ')}`)
  console.log('  verified')
  console.log(
    `    every unit: SHA-512 checked on transfer, frame count checked by the owner (${status.units.length} units)`
  )
  console.log(
    `    video frames  source ${frames(src)}  output ${frames(out)}  ${frames(src) === frames(out) ? 'equal' : 'DIFFERENT'}`
  )
  console.log(
    `    duration      source ${Number(src.format.duration).toFixed(3)} s  output ${Number(out.format.duration).toFixed(3)} s`
  )
  console.log(`    streams       output ${out.streams.map(s => `${s.codec_type}:${s.codec_name}`).join(', ')}`)
  console.log(`    SHA-512       ${(await sha512(status.output)).slice(0, 32)}…`)
  if (peers.length < 2 || byNode.size < 2) console.log('  note: fewer than two nodes converted units this time')
}

async function waitFor (check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(300)
  }
}

main().catch((err) => {
  console.error(`demo failed: ${err.message}`)
  process.exitCode = 1
})
