import { connect } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'
import { statsTable } from '../tables.js'

export async function statsCommand (opts: { dataDir?: string, json?: boolean }, signal: AbortSignal): Promise<number> {
  const stats = await (await connect(opts.dataDir)).stats({ signal })
  if (opts.json === true) printJson(stats)
  else process.stdout.write(statsTable(stats) + '\n')
  return EXIT_OK
}
