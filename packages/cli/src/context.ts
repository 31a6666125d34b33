import { ErrorCodes, FfmeshError, isFfmeshError, isJobId, JOB_ID_PREFIX_PATTERN } from '@ffmesh/protocol'
import type * as NodePackage from '@ffmesh/node'
import { createControlClient, type ControlClient } from './client.js'

type NodeModule = typeof NodePackage

/**
 * The whole @ffmesh/node graph (libp2p, LevelDB, ffmpeg pipeline) is loaded only by `ffmesh node`.
 * Client commands need just the data dir rules and `init` just its module, so they load those
 * files alone: faster start, and a client still works when the daemon cannot load.
 */
export async function importNodeFile<T> (file: string): Promise<T> {
  return await import(new URL(file, import.meta.resolve('@ffmesh/node')).href) as T
}

export async function loadNodeModule (): Promise<NodeModule> {
  return await import('@ffmesh/node')
}

export const loadPaths = (): Promise<Pick<NodeModule, 'resolveDataDir' | 'dataPaths'>> =>
  importNodeFile('./config/paths.js')
export const loadInit = (): Promise<Pick<NodeModule, 'initDataDir'>> => importNodeFile('./config/init.js')
export const loadRepair = (): Promise<Pick<NodeModule, 'repairJobLog'>> => importNodeFile('./store/repair.js')

export async function connect (dataDirFlag: string | undefined): Promise<ControlClient> {
  const { resolveDataDir, dataPaths } = await loadPaths()
  const dataDir = resolveDataDir(dataDirFlag)
  return createControlClient({ dataDir, socketPath: dataPaths(dataDir).controlSocket })
}

/**
 * Job ids are long; a unique prefix (as `ffmesh status` shows) is accepted too. With `mesh`, a
 * prefix no job of this node has is looked for among every job in the mesh.
 */
export async function resolveJobId (
  client: ControlClient,
  arg: string,
  options: { mesh?: boolean } = {}
): Promise<string> {
  const wanted = arg.toUpperCase()
  if (isJobId(wanted)) return wanted
  const notFound = (): FfmeshError =>
    new FfmeshError(ErrorCodes.JOB_NOT_FOUND, `no job id starts with ${arg}; \`ffmesh status\` lists the jobs`)
  if (!JOB_ID_PREFIX_PATTERN.test(wanted)) throw notFound()
  // Two are enough to tell one match from many: a library's thousands of jobs stay on the node.
  let matches: Array<{ id: string }> = await client.listJobs({ query: { idPrefix: wanted, limit: 2 } }).catch(
    async (err: unknown) => {
      // A node older than this CLI (not yet restarted after an upgrade) takes no idPrefix.
      if (!isFfmeshError(err) || err.code !== ErrorCodes.BAD_ARGUMENTS) throw err
      return (await client.listJobs()).filter(j => j.id.startsWith(wanted))
    }
  )
  if (matches.length === 0 && options.mesh === true) {
    matches = (await client.meshJobs()).filter(j => j.id.startsWith(wanted))
  }
  if (matches.length === 1) return matches[0].id
  if (matches.length === 0) throw notFound()
  throw new FfmeshError(ErrorCodes.BAD_ARGUMENTS, `${arg} matches more than one job; give more of the id`)
}
