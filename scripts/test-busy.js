#!/usr/bin/env node
// `npm run test:busy`: the whole suite (`npm test`) while two other processes keep both cores busy
// from start to end, as on a host about half as fast or a desktop in use. Prints how long it took
// and exits with the suite's status. The burners are this script's children and end with it.
import { spawn } from 'node:child_process'
import os from 'node:os'

const BURNERS = Number(process.env.FFMESH_BUSY_PROCESSES ?? 2)
const burners = Array.from({ length: BURNERS }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
const stopBurners = () => { for (const b of burners) if (b.exitCode == null) b.kill('SIGKILL') }
process.on('exit', stopBurners)
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { stopBurners(); process.exit(130) })

console.log(
  `test:busy: ${BURNERS} processes keep the CPU busy (${os.availableParallelism()} cores here): pids ${burners.map(b => b.pid).join(', ')}`
)
const started = Date.now()
const suite = spawn('npm', ['test'], { stdio: 'inherit' })
suite.on('exit', (code, signal) => {
  stopBurners()
  const seconds = Math.round((Date.now() - started) / 1000)
  console.log(
    `test:busy: npm test ${code === 0 ? 'passed' : `failed (${signal ?? code})`} in ${Math.floor(seconds / 60)} min ${seconds % 60} s with both cores kept busy`
  )
  process.exit(code ?? 1)
})
