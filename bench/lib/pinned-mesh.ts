/**
 * The mesh the scaling and trace benches run a job on: N `ffmesh node` processes on this machine,
 * one swarm key, mDNS on loopback, worker.slots 1 and worker.threads 1, node K pinned to cores[K]
 * (its ffmpeg children inherit the affinity). Node 0 is the one the job is submitted to.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { makeNodeDir, removeNodeDir, type BenchNodeConfig } from './node-dirs.ts'
import { startNodeProcess, waitForPeers, type NodeProcess } from './node-processes.ts'

export interface PinnedMesh {
  dirs: string[]
  peerIds: string[]
  nodes: NodeProcess[]
  /** Ends the node processes (their logs stay readable in `dirs`). */
  stopNodes(): Promise<void>
  /** Ends the nodes and removes their data dirs, first copying each node.log to `keepLogs` as node-K.log. */
  close(options?: { keepLogs?: string }): Promise<void>
}

export async function startPinnedMesh (
  count: number,
  init: {
    name: string
    /** jobs.segmentSeconds; left out, the node's default (the planner chooses the cut). */
    segmentSeconds?: number
    cores: number[]
    logLevel?: BenchNodeConfig['logLevel']
    peersTimeoutMs: number
  }
): Promise<PinnedMesh> {
  const dirs: string[] = []
  const peerIds: string[] = []
  const nodes: NodeProcess[] = []
  const stopNodes = async (): Promise<void> => {
    await Promise.all(nodes.map(async n => await n.stop()))
  }
  const mesh: PinnedMesh = {
    dirs,
    peerIds,
    nodes,
    stopNodes,
    async close (options = {}) {
      await stopNodes()
      const keep = options.keepLogs
      if (keep != null) {
        await fs.mkdir(keep, { recursive: true })
        await Promise.all(
          dirs.map(
            async (d, i) =>
              await fs.copyFile(path.join(d, 'node.log'), path.join(keep, `node-${i}.log`)).catch(() => {})
          )
        )
      }
      await Promise.all(dirs.map(async d => await removeNodeDir(d)))
    }
  }
  try {
    for (let i = 0; i < count; i++) {
      const made = await makeNodeDir(
        {
          name: `${init.name}-${i}`,
          slots: 1,
          threads: 1,
          segmentSeconds: init.segmentSeconds,
          logLevel: init.logLevel,
          mesh: { enabled: true, mdns: true }
        },
        i === 0 ? undefined : path.join(dirs[0] as string, 'swarm.key')
      )
      dirs.push(made.dir)
      peerIds.push(made.peerId)
    }
    for (const [i, dir] of dirs.entries()) {
      nodes.push(await startNodeProcess(dir, init.cores[i % init.cores.length] as number))
    }
    if (count > 1) await waitForPeers(nodes, init.peersTimeoutMs)
    return mesh
  } catch (err) {
    await mesh.close()
    throw err
  }
}
