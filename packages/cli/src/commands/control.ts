import { ErrorCodes, FfmeshError, type NodeControlState } from '@ffmesh/protocol'
import type { ControlClient } from '../client.js'
import { connect } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'
import { workerState } from '../tables.js'

export interface ControlOptions { dataDir?: string, json?: boolean, node?: string }

/** `--node` takes a peer id or a node name, as `ffmesh peers` shows them. */
async function resolveNode (client: ControlClient, wanted: string, signal: AbortSignal): Promise<string> {
  const [self, peers] = await Promise.all([client.info({ signal }), client.peers({ signal })])
  const nodes = [{ id: self.id, name: self.name }, ...peers]
  const byId = nodes.find(n => n.id === wanted)
  if (byId != null) return byId.id
  const byName = nodes.filter(n => n.name === wanted)
  if (byName.length === 1) return (byName[0] as { id: string }).id
  if (byName.length > 1) {
    throw new FfmeshError(
      ErrorCodes.BAD_ARGUMENTS,
      `${byName.length} nodes are named ${wanted}; give the peer id (\`ffmesh peers\` lists them)`
    )
  }
  throw new FfmeshError(
    ErrorCodes.PEER_UNREACHABLE,
    `no node ${wanted} is heard in the mesh now; \`ffmesh peers\` lists the nodes this one hears`
  )
}

function report (state: NodeControlState, json: boolean | undefined): number {
  if (json === true) printJson(state)
  else {
    process.stdout.write(
      `worker ${workerState(state)}${state.running > 0 ? `; ${state.running} unit${state.running === 1 ? '' : 's'} running` : ''}\n`
    )
  }
  return EXIT_OK
}

/**
 * `ffmesh pause [--drain] [--node N]`: a worker takes nothing new (the node still owns and serves
 * its jobs); this node's, or another's with --node.
 */
export async function pauseCommand (opts: ControlOptions & { drain?: boolean }, signal: AbortSignal): Promise<number> {
  const client = await connect(opts.dataDir)
  const drain = opts.drain === true
  const state =
    opts.node == null
      ? await client.pause({ drain }, { signal })
      : await client.pauseNode(await resolveNode(client, opts.node, signal), { drain }, { signal })
  return report(state, opts.json)
}

export async function resumeCommand (opts: ControlOptions, signal: AbortSignal): Promise<number> {
  const client = await connect(opts.dataDir)
  const state =
    opts.node == null
      ? await client.resume({ signal })
      : await client.resumeNode(await resolveNode(client, opts.node, signal), { signal })
  return report(state, opts.json)
}
