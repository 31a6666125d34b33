import type { NodeControlState } from '@ffmesh/protocol'
import { connect } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'
import { workerState } from '../tables.js'

export interface ControlOptions { dataDir?: string, json?: boolean }

function report (state: NodeControlState, json: boolean | undefined): number {
  if (json === true) printJson(state)
  else process.stdout.write(`worker ${workerState(state)}${state.running > 0 ? `; ${state.running} unit${state.running === 1 ? '' : 's'} running` : ''}\n`)
  return EXIT_OK
}

/** `ffmesh pause [--drain]`: this node's worker takes nothing new (the node still owns and serves its jobs). */
export async function pauseCommand (opts: ControlOptions & { drain?: boolean }, signal: AbortSignal): Promise<number> {
  return report(await (await connect(opts.dataDir)).pause({ drain: opts.drain === true }, { signal }), opts.json)
}

export async function resumeCommand (opts: ControlOptions, signal: AbortSignal): Promise<number> {
  return report(await (await connect(opts.dataDir)).resume({ signal }), opts.json)
}
