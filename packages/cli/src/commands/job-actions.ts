import path from 'node:path'
import { connect, resolveJobId } from '../context.js'
import { EXIT_OK, printJson } from '../report-error.js'

export interface JobActionOptions { dataDir?: string, json?: boolean }

export async function cancelCommand (job: string, opts: JobActionOptions, signal: AbortSignal): Promise<number> {
  const client = await connect(opts.dataDir)
  const status = await client.cancel(await resolveJobId(client, job), { signal })
  if (opts.json === true) printJson(status)
  else process.stdout.write(`${status.id} ${status.state}\n`)
  return EXIT_OK
}

export async function retryCommand (job: string, opts: JobActionOptions, signal: AbortSignal): Promise<number> {
  const client = await connect(opts.dataDir)
  const status = await client.retry(await resolveJobId(client, job), { signal })
  if (opts.json === true) printJson(status)
  else process.stdout.write(`${status.id} ${status.state} (retried)\n`)
  return EXIT_OK
}

export async function fetchCommand (
  job: string,
  opts: JobActionOptions & { out?: string },
  signal: AbortSignal
): Promise<number> {
  const client = await connect(opts.dataDir)
  const result = await client.fetchOutput(
    await resolveJobId(client, job),
    opts.out != null ? path.resolve(opts.out) : undefined,
    { signal }
  )
  if (opts.json === true) printJson(result)
  else process.stdout.write(`${result.path}\n`)
  return EXIT_OK
}

export async function removeCommand (job: string, opts: JobActionOptions, signal: AbortSignal): Promise<number> {
  const client = await connect(opts.dataDir)
  const result = await client.remove(await resolveJobId(client, job), { signal })
  if (opts.json === true) printJson(result)
  else {
    process.stdout.write(
      `removed ${result.id} (${result.blobsFreed} blob${result.blobsFreed === 1 ? '' : 's'} freed; its output, if any, stays)\n`
    )
  }
  return EXIT_OK
}
