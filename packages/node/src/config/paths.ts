import os from 'node:os'
import path from 'node:path'

/** The layout of a data dir. Every component asks here instead of joining names itself. */
export interface DataPaths {
  root: string
  config: string
  swarmKey: string
  identity: string
  controlSocket: string
  /** LevelDB job log. */
  db: string
  /** The job log's marker: its id and the last record it is known to hold (store/log-marker.ts). */
  logMarker: string
  /** Room kept for the job log on a full disk (store/log-reserve.ts). */
  logReserve: string
  /** datastore-level peer store; its own directory because LevelDB takes an exclusive lock. */
  peers: string
  blobs: string
  /** Inputs fetched from other owners while converting for them; only the worker side deletes here. */
  fetched: string
  /** Temp files, swept at start-up. */
  tmp: string
  /** Per-job scratch (split pieces before they become blobs). */
  work: string
  /** Unit outputs being converted by this node as a worker. */
  outbox: string
  /** The dashboard password's scrypt hash (`ffmesh ui password`), 0600; absent: no password. */
  uiPassword: string
}

export function dataPaths (root: string): DataPaths {
  const r = path.resolve(root)
  return {
    root: r,
    config: path.join(r, 'config.yaml'),
    swarmKey: path.join(r, 'swarm.key'),
    identity: path.join(r, 'identity.key'),
    controlSocket: path.join(r, 'control.sock'),
    db: path.join(r, 'db'),
    logMarker: path.join(r, 'job-log.json'),
    logReserve: path.join(r, 'job-log.reserve'),
    peers: path.join(r, 'peers'),
    blobs: path.join(r, 'blobs'),
    fetched: path.join(r, 'fetched'),
    tmp: path.join(r, 'tmp'),
    work: path.join(r, 'work'),
    outbox: path.join(r, 'outbox'),
    uiPassword: path.join(r, 'ui-password')
  }
}

/** `--data-dir`, then $FFMESH_DATA_DIR, then the per-user default ($XDG_DATA_HOME/ffmesh). */
export function resolveDataDir (flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag != null && flag !== '') return path.resolve(flag)
  if (env.FFMESH_DATA_DIR != null && env.FFMESH_DATA_DIR !== '') return path.resolve(env.FFMESH_DATA_DIR)
  const xdg =
    env.XDG_DATA_HOME != null && env.XDG_DATA_HOME !== ''
      ? env.XDG_DATA_HOME
      : path.join(os.homedir(), '.local', 'share')
  return path.join(xdg, 'ffmesh')
}

/** The files of the job log in a data dir, as openJobStore takes them. */
export function jobLogFiles (paths: Pick<DataPaths, 'db' | 'logMarker' | 'logReserve'>): {
  db: string
  marker: string
  reserve: string
} {
  return { db: paths.db, marker: paths.logMarker, reserve: paths.logReserve }
}
