import fs from 'node:fs/promises'
import path from 'node:path'
import { makeNodeDir } from './lib/node-dirs.ts'
import { startNodeProcess, submitAndWait, waitForPeers, type NodeProcess } from './lib/node-processes.ts'
const count = Number(process.argv[2] ?? 2)
const seg = Number(process.argv[3] ?? 6)
const source = '/tmp/ffmesh-bench-media/sample-1280x720-60s.mp4'
const dirs: string[] = []
for (let i = 0; i < count; i++) {
  const made = await makeNodeDir({ name: `p${i}`, slots: 1, threads: 1, segmentSeconds: seg, mesh: { enabled: true, mdns: true } }, i === 0 ? undefined : path.join(dirs[0]!, 'swarm.key'))
  const cfg = path.join(made.dir, 'config.yaml')
  await fs.writeFile(cfg, (await fs.readFile(cfg, 'utf8')).replace('level: info', 'level: debug'))
  dirs.push(made.dir)
}
const nodes: NodeProcess[] = []
for (const [i, d] of dirs.entries()) nodes.push(await startNodeProcess(d, i % 2))
if (count > 1) await waitForPeers(nodes, 60000)
const r = await submitAndWait(dirs[0]!, source, '/tmp/prof/out')
console.log('wall', r.wallMs)
const tck = 100
for (const n of nodes) {
  const pid = n.child.pid
  // taskset execs node in place, so the pid is node's
  const st = (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
  console.log('node', pid, 'self cpu s', ((Number(st[11]) + Number(st[12])) / tck).toFixed(2), 'children cpu s', ((Number(st[13]) + Number(st[14])) / tck).toFixed(2))
}
await Promise.all(nodes.map(n => n.stop()))
console.log(dirs.join(' '))
