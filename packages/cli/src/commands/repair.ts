import type { RepairReport } from '@ffmesh/node'
import { loadPaths, loadRepair } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'

export interface RepairOptions { dataDir?: string, json?: boolean }

/** `ffmesh repair`: offline; saves what the job log still holds and says what was lost. */
export async function repairCommand (opts: RepairOptions, signal: AbortSignal): Promise<number> {
  const [{ resolveDataDir }, { repairJobLog }] = await Promise.all([loadPaths(), loadRepair()])
  const dataDir = resolveDataDir(opts.dataDir)
  const report = await repairJobLog({ dataDir, signal })
  if (opts.json === true) printJson(report)
  else process.stdout.write(describe(report) + '\n')
  return EXIT_OK
}

function describe (r: RepairReport): string {
  const states = Object.entries(r.jobsByState).map(([state, n]) => `${n} ${state}`).join(', ')
  const lines = [
    `repaired  the job log of ${r.dataDir}; the damaged files were copied to ${r.damagedCopy}`,
    `kept      ${r.jobsKept} job${r.jobsKept === 1 ? '' : 's'}${states !== '' ? ` (${states})` : ''}`,
    `lost      ${r.recordsLost} log record${r.recordsLost === 1 ? '' : 's'}; ${r.unreadableRecords} unreadable record${r.unreadableRecords === 1 ? '' : 's'} deleted`
  ]
  for (const line of r.droppedByLevelDb.lines) lines.push(`leveldb   ${line}`)
  if (r.jobsRebuilt.length > 0) {
    lines.push(
      `rebuilt   the records of ${r.jobsRebuilt.length} job${r.jobsRebuilt.length === 1 ? '' : 's'} from their events: ${r.jobsRebuilt.join(', ')}`
    )
  }
  if (r.jobsLost.length > 0) {
    lines.push(
      `gone      ${r.jobsLost.length} job${r.jobsLost.length === 1 ? '' : 's'} whose own record was lost (their blobs are kept): ${r.jobsLost.join(', ')}`
    )
  }
  if (r.jobsNeedingAttention.length > 0) {
    lines.push(
      `attention ${r.jobsNeedingAttention.length} job${r.jobsNeedingAttention.length === 1 ? ' is' : 's are'} held until you look at ${r.jobsNeedingAttention.length === 1 ? 'it' : 'them'} (\`ffmesh retry JOB\` runs one anyway, \`ffmesh rm JOB\` removes it):`
    )
    for (const j of r.jobsNeedingAttention) lines.push(`  ${j.id} ${j.state} ${j.source}: ${j.reason}`)
  }
  lines.push(`next      ffmesh node --data-dir ${r.dataDir}`)
  return lines.join('\n')
}
