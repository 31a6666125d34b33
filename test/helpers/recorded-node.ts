import type { NodeEvent } from '@ffmesh/protocol'
import { dataPaths } from '../../packages/node/src/config/paths.js'
import { recordEvents } from './faults-cluster.js'
import { killOrphans, startNodeProcess, type NodeProcess } from './node-harness.js'

/**
 * One node process of a fault scenario, on one data dir, started and stopped as the test says:
 * every event it emits is recorded across its restarts, and each run's log is kept, to read and
 * to print when the test failed.
 */
export interface RecordedNode {
  readonly events: NodeEvent[]
  /** The running process; throws when none runs. */
  process(): NodeProcess
  start(): Promise<void>
  /** Stops it with `signal`; after kill -9 also the ffmpeg children it left behind. */
  stop(signal: NodeJS.Signals): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Every run's log, in order. */
  log(): string
  /** For afterAll: kills what still runs, printing the log when the test failed. */
  end(failed: boolean): Promise<void>
}

export function recordedNode (dataDir: string): RecordedNode {
  const events: NodeEvent[] = []
  const logs: string[] = []
  let node: NodeProcess | null = null
  let stopEvents = (): void => {}
  const runs = (): string[] => [...logs, ...(node != null ? [node.log()] : [])]
  return {
    events,
    process () {
      if (node == null) throw new Error('no node runs')
      return node
    },
    async start () {
      node = await startNodeProcess(dataDir)
      stopEvents = recordEvents(dataPaths(dataDir).controlSocket, events)
    },
    async stop (signal) {
      stopEvents()
      const p = this.process()
      const exited = await p.stop(signal)
      logs.push(p.log())
      node = null
      if (signal === 'SIGKILL') await killOrphans(dataDir)
      return exited
    },
    log: () => runs().join('\n'),
    async end (failed) {
      stopEvents()
      if (failed) console.error(`--- node log ---\n${runs().join('\n--- restart ---\n').slice(-40_000)}`)
      if (node != null) await node.stop('SIGKILL')
      node = null
      await killOrphans(dataDir)
    }
  }
}
