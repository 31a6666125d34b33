import fs from 'node:fs/promises'
import path from 'node:path'
import { toErrorBody, type ErrorBody } from '@ffmesh/protocol'
import { connect } from '../context.js'
import { followJobs } from '../follow-jobs.js'
import { createLiveProgress, noteTo } from '../live-progress.js'
import { waitingForNodeSaying } from '../node-return.js'
import { EXIT_FAILED, EXIT_OK, printJson, reportError } from '../report-error.js'
import { jobsTable } from '../tables.js'

export interface SubmitOptions {
  dataDir?: string
  profile: string
  out?: string
  wait?: boolean
  handoff?: boolean
  json?: boolean
}

type Outcome = { file: string, id: string } | { file: string, error: ErrorBody }

export async function submitCommand (files: string[], opts: SubmitOptions, signal: AbortSignal): Promise<number> {
  const client = await connect(opts.dataDir)
  const outDir = opts.out != null ? path.resolve(opts.out) : undefined
  const sources = files.map(file => path.resolve(file))
  const sizes = await fileSizes(sources)
  const order = largestFirst(sizes)
  const following = followingFiles(order.map(i => sizes[i] as number))
  // In the files' order on the command line, whatever order they went in.
  const outcomes: Outcome[] = []
  for (const [k, i] of order.entries()) {
    const source = sources[i] as string
    try {
      const { id } = await client.submit(
        {
          source,
          profile: opts.profile,
          outDir,
          handoff: opts.handoff === true ? true : undefined,
          following: following[k]
        },
        { signal }
      )
      outcomes[i] = { file: source, id }
      if (opts.json !== true) process.stdout.write(`submitted ${id} ${source}\n`)
    } catch (err) {
      // The node is gone: every other file would fail the same way, so say it once.
      if ((err as { code?: string }).code === 'NODE_NOT_RUNNING') return reportError(err, { json: opts.json })
      outcomes[i] = { file: source, error: toErrorBody(err) }
      if (opts.json !== true) reportError(err)
    }
  }

  let code = outcomes.some(o => 'error' in o) ? EXIT_FAILED : EXIT_OK
  const ids = outcomes.flatMap(o => 'id' in o ? [o.id] : [])
  if (opts.wait === true && ids.length > 0) {
    const progress = opts.json === true ? null : createLiveProgress()
    try {
      const final = await followJobs(client, ids, {
        onUpdate: jobs => progress?.update(jobs),
        signal,
        nodeCall: waitingForNodeSaying(noteTo(progress), signal)
      })
      progress?.stop()
      if (final.some(j => j.state !== 'done')) code = EXIT_FAILED
      if (opts.json !== true) process.stdout.write(jobsTable(final) + '\n')
    } catch (err) {
      progress?.stop()
      if (opts.json !== true) return reportError(err)
      code = EXIT_FAILED
    }
  }
  if (opts.json === true) {
    const docs = outcomes.map(o => 'id' in o ? { id: o.id } : { error: o.error })
    printJson(docs.length === 1 ? docs[0] : docs)
  }
  return code
}

type Following = { files: number, bytes: number } | undefined

/** Each file's size in bytes; 0 for one that cannot be read or is not a file (the node refuses it with its code). */
export async function fileSizes (sources: string[]): Promise<number[]> {
  const size = async (file: string): Promise<number> =>
    await fs.stat(file).then(st => (st.isFile() ? st.size : 0), () => 0)
  return await Promise.all(sources.map(size))
}

/**
 * The order a submission of several files goes in: the largest first, ties in the order given. A
 * batch then ends with its short files, which even out the machines' last minutes, where a long file
 * submitted last would keep one machine busy while the others wait (or be cut to share it, at the
 * cost of a cut pass, an audio unit and an assembly).
 */
export function largestFirst (sizes: number[]): number[] {
  return sizes.map((_, i) => i).sort((a, b) => (sizes[b] as number) - (sizes[a] as number) || a - b)
}

/**
 * For each file of a submission of several, in the order they go in, the files after it and their
 * bytes, which the node's planner counts as work to come. A single file says nothing.
 */
export function followingFiles (sizes: number[]): Following[] {
  if (sizes.length < 2) return sizes.map(() => undefined)
  let bytes = sizes.reduce((a, b) => a + b, 0)
  return sizes.map((size, i) => {
    bytes -= size
    return { files: sizes.length - 1 - i, bytes }
  })
}
