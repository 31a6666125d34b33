import path from 'node:path'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { loadNodeModule } from '../context.js'
import { tuneNodeHeap } from '../heap.js'
import { EXIT_FAILED, EXIT_OK } from '../report-error.js'

export interface NodeOptions { dataDir?: string, config?: string }

/** A node that does not finish stopping in this time is abandoned (systemd would kill it anyway). */
export const STOP_TIMEOUT_MS = 10_000

/** After a clean stop, time for stdout to flush before the process is ended regardless. */
const EXIT_GRACE_MS = 2_000

interface RunningNode { peerId: string, api: { info(): { dashboard: string | null } }, stop(): Promise<void> }
type StartNode = (init: { dataDir: string, configFile?: string, env?: NodeJS.ProcessEnv }) => Promise<RunningNode>

/** Runs the node in the foreground until SIGTERM or SIGINT; a second signal exits at once. */
export async function nodeCommand (opts: NodeOptions): Promise<number> {
  tuneNodeHeap()
  const mod = await loadNodeModule() as Awaited<ReturnType<typeof loadNodeModule>> & { startNode?: StartNode }
  if (typeof mod.startNode !== 'function') {
    throw new FfmeshError(
      ErrorCodes.INTERNAL,
      'this build of @ffmesh/node has no startNode; rebuild with `npm run build`'
    )
  }
  const dataDir = mod.resolveDataDir(opts.dataDir)

  let signalled: NodeJS.Signals | null = null
  let stopRequested: (() => void) | null = null
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled != null) {
      process.stderr.write(`received ${sig} again; exiting without a clean stop\n`)
      process.exit(EXIT_FAILED)
    }
    signalled = sig
    stopRequested?.()
  }
  // Listen before starting: a signal during start-up must still stop the node cleanly.
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  try {
    const node = await mod.startNode({
      dataDir,
      configFile: opts.config != null ? path.resolve(opts.config) : undefined,
      env: process.env
    })
    const dashboard = node.api.info().dashboard
    process.stdout.write(
      `ffmesh node ready: peer ${node.peerId}, data dir ${dataDir}, control socket ${mod.dataPaths(dataDir).controlSocket}${dashboard != null ? `, dashboard ${dashboard}` : ''}\n`
    )
    if (signalled == null) await new Promise<void>(resolve => { stopRequested = resolve })
    const timer = setTimeout(() => {
      process.stderr.write(`node did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting\n`)
      process.exit(EXIT_FAILED)
    }, STOP_TIMEOUT_MS)
    timer.unref()
    await node.stop()
    clearTimeout(timer)
    // A library handle left open must not keep a stopped node's process alive.
    setTimeout(() => process.exit(EXIT_OK), EXIT_GRACE_MS).unref()
    return EXIT_OK
  } finally {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
}
