/**
 * What a bench leaves behind when it is interrupted: its temp dirs (node data dirs, outputs:
 * hundreds of MB for the batch) and the processes it started (nodes, plain ffmpeg). A bench ended
 * by Ctrl-C or by SIGTERM (a CI time limit) runs no `finally`, so without this an interrupted run
 * left its dirs in the temp folder and, after SIGTERM, its processes running.
 */
import type { ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const dirs = new Set<string>()
const children = new Set<ChildProcess>()
let armed = false
let stopping = false

/** A node given SIGTERM stops its own ffmpeg children first; after this it is killed. */
const STOP_GRACE_MS = 10_000

async function onSignal (signal: NodeJS.Signals): Promise<void> {
  // Ctrl-C reaches this process twice under run-all.js (from the terminal and forwarded): one stop.
  if (stopping) return
  stopping = true
  const running = [...children].filter(c => c.exitCode == null && c.signalCode == null)
  const exits = running.map(async c => await new Promise(resolve => c.once('exit', resolve)))
  for (const child of running) child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    Promise.all(exits),
    new Promise(resolve => { timer = setTimeout(resolve, STOP_GRACE_MS) })
  ])
  clearTimeout(timer)
  for (const child of running) if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
  for (const dir of dirs) {
    // A killed process may still hold a file open for a moment: a few retries cover it.
    try { fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 }) } catch { /* best effort on the way out */ }
  }
  console.error(`\nbench interrupted (${signal}): stopped ${running.length} process(es), removed ${dirs.size} temp dir(s)`)
  process.exit(signal === 'SIGINT' ? 130 : 143)
}

function arm (): void {
  if (armed) return
  armed = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => { void onSignal(signal) })
}

/** A new dir under the system temp folder, removed if the bench is interrupted. */
export async function benchTempDir (prefix: string): Promise<string> {
  arm()
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix))
  dirs.add(dir)
  return dir
}

/** Removes a dir from benchTempDir now. */
export async function removeBenchTempDir (dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true })
  dirs.delete(dir)
}

/** A child that is ended if the bench is interrupted; forgotten once it exits. */
export function trackChild (child: ChildProcess): void {
  arm()
  children.add(child)
  child.once('exit', () => children.delete(child))
}
