#!/usr/bin/env node
// `npm run bench`: runs every benchmark in turn, or the ones named (`node bench/run-all.js convert`),
// each in its own Node process. Extra arguments after `--` go to every bench named.
// Exits non-zero when a bench fails to run; a missed goal is printed by the bench ("goal missed").
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const BENCHES = {
  batch: 'batch.ts',
  convert: 'convert.ts',
  scaling: 'scaling.ts',
  'scale-sim': 'scale-sim.ts',
  transfer: 'transfer.ts',
  library: 'library.ts',
  'done-jobs': 'done-jobs.ts',
  dashboard: 'dashboard.ts'
}

const dash = process.argv.indexOf('--')
const names = (dash >= 0 ? process.argv.slice(2, dash) : process.argv.slice(2))
const extra = dash >= 0 ? process.argv.slice(dash + 1) : []
const unknown = names.filter(n => !(n in BENCHES))
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`)
  process.exit(2)
}

// A signal to this script goes on to the bench running, which stops its nodes and removes its temp
// dirs (bench/lib/cleanup.ts) before it exits; this script then stops too.
let current = null
/** The exit code of the signal that stopped the run (128 + its number, as a shell reports it), or null. */
let interrupted = null
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    interrupted = code
    if (current != null && current.exitCode == null) current.kill(signal)
    else process.exit(code)
  })
}

const run = (name) => new Promise((resolve) => {
  const script = path.join(here, BENCHES[name])
  console.log(
    `\n=== bench ${name}: node --experimental-strip-types ${path.relative(process.cwd(), script)} ${extra.join(' ')}`.trimEnd()
  )
  const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings', script, ...extra], {
    stdio: 'inherit'
  })
  current = child
  child.once('error', (err) => { console.error(`bench ${name} could not start: ${err.message}`); resolve(1) })
  child.once('exit', (code, signal) => resolve(code ?? (signal != null ? 1 : 0)))
})

const failed = []
for (const name of names.length > 0 ? names : Object.keys(BENCHES)) {
  if (interrupted != null) break
  const code = await run(name)
  if (code !== 0) failed.push(`${name} (exit ${code})`)
}
if (interrupted != null) {
  process.exitCode = interrupted
} else if (failed.length > 0) {
  console.error(`\nbenches that failed: ${failed.join(', ')}`)
  process.exitCode = 1
}
