import path from 'node:path'
import { loadInit, loadPaths } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'

export interface InitOptions { dataDir?: string, swarmKeyFile?: string, json?: boolean }

export async function initCommand (opts: InitOptions, signal: AbortSignal): Promise<number> {
  const [{ resolveDataDir, dataPaths }, { initDataDir }] = await Promise.all([loadPaths(), loadInit()])
  const dataDir = resolveDataDir(opts.dataDir)
  const result = await initDataDir({
    dataDir,
    swarmKeyFile: opts.swarmKeyFile != null ? path.resolve(opts.swarmKeyFile) : undefined,
    signal
  })
  if (opts.json === true) {
    printJson({ dataDir, ...result })
    return EXIT_OK
  }
  const lines = [
    `data dir  ${dataDir}`,
    `peer id   ${result.peerId}`,
    result.created.length > 0
      ? `created   ${result.created.map(f => path.relative(dataDir, f) || '.').join(', ')}`
      : 'already initialised; nothing changed',
    `next      ffmesh node --data-dir ${dataDir}   (other machines join with: ffmesh init --swarm-key-file <copy of ${dataPaths(dataDir).swarmKey}>)`
  ]
  process.stdout.write(lines.join('\n') + '\n')
  return EXIT_OK
}
