/** Data dirs for bench nodes: `initDataDir` (what `ffmesh init` runs) plus a config.yaml for the bench. */
import fs from 'node:fs/promises'
import path from 'node:path'
import { stringify } from 'yaml'
import { initDataDir } from '../../packages/node/dist/index.js'
import { benchTempDir, removeBenchTempDir } from './cleanup.ts'

export interface BenchNodeConfig {
  name: string
  slots?: number
  threads?: number
  segmentSeconds?: number
  /** jobs.cut: `segments` cuts every file long enough at segmentSeconds, whatever the mesh. */
  cut?: 'auto' | 'segments'
  /** pino level; `debug` logs every ffmpeg and ffprobe with its run time. */
  logLevel?: 'info' | 'debug'
  mesh?: { enabled: boolean, mdns: boolean, bootstrap?: string[], advertiseSeconds?: number, listen?: string[] }
  /** The dashboard; off unless a bench asks (bench nodes share the machine, and port 7676). */
  ui?: { enabled: boolean, listen?: string }
}

/** Makes a data dir under the system temp folder; shares the swarm key of `swarmKeyFile` when given. */
export async function makeNodeDir (
  config: BenchNodeConfig,
  swarmKeyFile?: string,
  options: { signal?: AbortSignal } = {}
): Promise<{ dir: string; peerId: string }> {
  const dir = await benchTempDir('ffmesh-bench-node-')
  const { peerId } = await initDataDir({ dataDir: dir, swarmKeyFile, signal: options.signal })
  const worker: Record<string, number> = { minFreeDisk: 0 }
  if (config.slots != null) worker.slots = config.slots
  if (config.threads != null) worker.threads = config.threads
  const mesh = config.mesh ?? { enabled: true, mdns: false }
  await fs.writeFile(
    path.join(dir, 'config.yaml'),
    stringify({
      name: config.name,
      log: { level: config.logLevel ?? 'info' },
      worker,
      jobs: {
        ...(config.segmentSeconds != null ? { segmentSeconds: config.segmentSeconds } : {}),
        ...(config.cut != null ? { cut: config.cut } : {})
      },
      // The default advert interval unless a bench asks: what a user's nodes run.
      mesh: {
        enabled: mesh.enabled,
        mdns: mesh.mdns,
        listen: mesh.listen ?? ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: mesh.bootstrap ?? [],
        ...(mesh.advertiseSeconds != null ? { advertiseSeconds: mesh.advertiseSeconds } : {})
      },
      ui: config.ui ?? { enabled: false }
    })
  )
  return { dir, peerId }
}

export async function removeNodeDir (dir: string): Promise<void> {
  await removeBenchTempDir(dir)
}
