import { EVENT_STREAM_RESET, TERMINAL_JOB_STATES, type JobStatus, type NodeEvent } from '@ffmesh/protocol'
import { streamsFull, type ControlClient, type EventSubscription } from './client.js'
import { waitingForNode, type NodeCall } from './node-return.js'

/** Events arrive per frame of progress; redrawing more often than this only burns the CPU. */
export const REFRESH_MS = 300
/** If the event stream is lost, status is still read this often, and the stream reopened. */
export const FALLBACK_POLL_MS = 5_000

const TERMINAL_EVENTS = new Set(['job:done', 'job:failed', 'job:cancelled', 'job:skipped'])

export const isTerminal = (job: JobStatus): boolean => TERMINAL_JOB_STATES.includes(job.state)

/**
 * Follows jobs on the node's event stream until every one is done, failed or cancelled (or, with
 * `until: 'forever'`, until the signal aborts). Status is re-read only for jobs an event touched.
 * `ids: null` follows every job the node knows, including ones submitted meanwhile.
 */
export async function followJobs (client: ControlClient, ids: string[] | null, init: {
  onUpdate: (jobs: JobStatus[]) => void
  until?: 'terminal' | 'forever'
  signal?: AbortSignal
  /** How calls ride over a node that stops answering for a while (node-return.ts). */
  nodeCall?: NodeCall
}): Promise<JobStatus[]> {
  // A node restarted under a follower keeps its jobs: the follower waits for it and reads them all.
  const call = init.nodeCall ?? waitingForNode({ signal: init.signal })
  // A function, read afresh each time: the signal aborts while the follow awaits.
  const interrupted = (): boolean => init.signal?.aborted === true
  const latest = new Map<string, JobStatus>()
  // What to read again: every job (at the start, after missed events, and at each fallback poll),
  // or only the ones an event touched. A batch follows many jobs, and a progress event of one must
  // not cost a status read of each.
  let everything = true
  const touched = new Set<string>()
  let wake: (() => void) | null = null
  let events: EventSubscription | null = null
  // A stream that is lost is reopened from its last event, so the node replays what fell between.
  let lastEventId: string | null = null
  const watching = (ev: NodeEvent): boolean => ev.jobId != null && (ids == null || ids.includes(ev.jobId))

  const openStream = async (): Promise<void> => {
    const sub = await client.openEvents({ signal: init.signal, lastEventId })
    events = sub
    void (async () => {
      for await (const ev of sub) {
        lastEventId = sub.lastEventId
        // Events were missed: every job may have moved.
        if (ev.type === EVENT_STREAM_RESET) {
          everything = true
          wake?.()
          continue
        }
        if (!watching(ev)) continue
        touched.add(ev.jobId as string)
        if (TERMINAL_EVENTS.has(ev.type)) wake?.()
      }
      // Ended by the node (it stopped or restarted), not by us: reopen it and read again at once.
      if (events === sub) {
        events = null
        everything = true
      }
      wake?.()
    })()
  }

  const refresh = async (): Promise<void> => {
    const all = everything
    const some = [...touched]
    // Cleared before the reads, so an event meanwhile asks again; put back if the node did not answer.
    everything = false
    touched.clear()
    let jobs: JobStatus[]
    try {
      // Following every job, a touched one may be new (submitted meanwhile): the list has it.
      jobs = ids == null
        ? await client.listJobs({ signal: init.signal })
        : await Promise.all((all ? ids : some).map(id => client.getJob(id, { signal: init.signal })))
    } catch (err) {
      everything ||= all
      for (const id of some) touched.add(id)
      throw err
    }
    for (const j of jobs) latest.set(j.id, j)
  }

  try {
    // The first turn opens the stream, then reads: no event falls between the two.
    let lastRead = 0
    for (;;) {
      if (interrupted()) break
      if (Date.now() - lastRead >= FALLBACK_POLL_MS) everything = true
      if (everything || touched.size > 0) {
        try {
          // Reopened from its last event: the node replays what was missed, or a restarted one resets.
          // With every stream of the node taken, status is read every FALLBACK_POLL_MS, and the
          // stream asked for again then.
          if (events == null) {
            await call(openStream).catch((err: unknown) => { if (!streamsFull(err)) throw err })
          }
          await call(refresh)
        } catch (err) {
          // Ctrl-C while waiting for the node: ends as a follow interrupted at any other time does.
          if (interrupted()) break
          throw err
        }
        lastRead = Date.now()
        const jobs = [...latest.values()]
        init.onUpdate(jobs)
        if (init.until !== 'forever' && jobs.length > 0 && jobs.every(isTerminal)) return jobs
      }
      await new Promise<void>(resolve => {
        // Waking costs nothing: the node is asked again only when an event touched a job.
        const timer = setTimeout(resolve, REFRESH_MS)
        wake = () => { clearTimeout(timer); resolve() }
        init.signal?.addEventListener('abort', wake, { once: true })
      })
      wake = null
    }
    return [...latest.values()]
  } finally {
    (events as EventSubscription | null)?.close()
  }
}
