import { connect } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'
import { peersTable, profilesTable } from '../tables.js'

export interface ListOptions { dataDir?: string, json?: boolean }

export async function peersCommand (opts: ListOptions, signal: AbortSignal): Promise<number> {
  const peers = await (await connect(opts.dataDir)).peers({ signal })
  if (opts.json === true) {
    printJson(
      peers.map(p => ({
        id: p.id,
        name: p.name,
        slotsFree: p.slotsFree,
        encoders: p.encoders,
        diskFree: p.diskFree,
        lastSeen: p.lastSeen,
        paused: p.paused,
        draining: p.draining,
        nextWindow: p.nextWindow
      }))
    )
  } else {
    process.stdout.write(
      peers.length === 0
        ? 'no peers seen yet (is another node running with the same swarm key on this LAN?)\n'
        : peersTable(peers) + '\n'
    )
  }
  return EXIT_OK
}

export async function profilesCommand (opts: ListOptions, signal: AbortSignal): Promise<number> {
  const profiles = await (await connect(opts.dataDir)).profiles({ signal })
  if (opts.json === true) printJson(profiles)
  else process.stdout.write(profilesTable(profiles) + '\n')
  return EXIT_OK
}
