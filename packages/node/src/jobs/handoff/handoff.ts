import fs from 'node:fs/promises'
import path from 'node:path'
import { recordEvent } from '../shared/record-event.js'
import {
  ErrorCodes,
  TERMINAL_JOB_STATES,
  toErrorBody,
  wireErrorBody,
  type BlobRef,
  type ErrorBody,
  type ErrorCode,
  type JobStatus,
  type MessageBody
} from '@ffmesh/protocol'
import { hashFile } from '../../store/hash.js'
import { placeFile, placementTemp } from '../../store/place-file.js'
import type { Component } from '../../lifecycle.js'
import type { JobView } from '../../store/reduce.js'
import type { JobRecord } from '../../store/records.js'
import { finalOutputName } from '../owner/assemble-job.js'
import { blobsOnlyFor, referencedBlobs } from '../owner/cleanup.js'
import { retryJob } from '../owner/job-commands.js'
import { mirrorOf, reportedUnits } from '../owner/status.js'
import type { JobComponents } from '../shared/deps.js'
import { freeDiskBytes } from '../../store/free-space.js'
import { removeFetch } from '../../mesh/blob-protocol.js'
import type { JobMessage } from '../shared/job-bus.js'
import type { MessageRoutes, SideMessages } from '../shared/message-router.js'
import type { Mirrors } from './mirrors.js'

/** Submit and walk away, both sides: a Component with the job messages it handles. */
export interface HandoffManager extends Component {
  readonly messages: Pick<MessageRoutes, 'handoff' | 'handoff-accepted' | 'job-state' | 'delivered'>
  /** Forgets a removed job (`ffmesh rm`). */
  forget(jobId: string): void
  /** The new owner may fetch the source; the submitter may fetch the output. */
  authorizeBlob(peer: string, hash: string): Promise<string | null>
}

/** A handoff not accepted within this long is offered to the next-best peer. */
export const HANDOFF_RESEND_MS = 10_000
/** How often a new owner repeats a handed-off job's state until the submitter has the output. */
export const JOB_STATE_EVERY_MS = 5_000
/**
 * An ended job's state is repeated ever less often, down to this: no answer ends it when the job
 * failed or was cancelled, or the submitter removed its record, and a thousand of those every 5 s
 * would spend the gossip budget peers allow a node. A submitter that wakes still hears it.
 */
export const ENDED_STATE_EVERY_MAX_MS = 5 * 60_000
/** Disk a new owner needs per byte of source: the source itself, its pieces and the output. */
export const HANDOFF_DISK_FACTOR = 3
const TICK_MS = 1_000

/** The wait after a state report: JOB_STATE_EVERY_MS while the job runs, doubling once it has ended. */
export function nextStateWait (previous: number, ended: boolean): number {
  return ended ? Math.min(ENDED_STATE_EVERY_MAX_MS, previous * 2) : JOB_STATE_EVERY_MS
}

type Msg<T extends JobMessage['type']> = Extract<JobMessage, { type: T }>

export interface HandoffInit {
  /** The one status builder (jobs/owner/status.ts): what a new owner reports to the submitter. */
  status: (view: JobView) => JobStatus
  /** Filled here from `job-state` messages; the status builder reads it. */
  mirrors: Mirrors
}

/**
 * Submit and walk away. The submitter asks the peer with the most free capacity to own the job;
 * that peer pulls the source over the blob protocol (verified by SHA-512), probes it itself and
 * owns the job from then on. It repeats the job's state to the submitter until the submitter has
 * fetched the verified output into its own output folder, so a submitter that slept for hours
 * still gets it when it wakes.
 */
export function createHandoff (c: JobComponents, init: HandoffInit): HandoffManager {
  const log = c.logger.child({ component: 'handoff' })
  const self = c.mesh.peerId
  const sourceRefs = new Map<string, BlobRef>()
  const outputRefs = new Map<string, BlobRef>()
  /** Submitter side: when each job was last offered for handoff. */
  const offeredAt = new Map<string, number>()
  /** New-owner side: when each handed-off job's state was last reported to its submitter, and the next wait. */
  const reportedAt = new Map<string, { at: number, every: number }>()
  const mirrors = init.mirrors
  const busy = new Set<string>()
  /** New-owner side: the last takeover queued for each source hash, which the next one waits for. */
  const takeovers = new Map<string, Promise<void>>()
  let timer: NodeJS.Timeout | undefined
  let unsubscribe = (): void => {}

  const once = (key: string, fn: () => Promise<void>): void => {
    if (busy.has(key)) return
    busy.add(key)
    fn().catch(err => log.warn({ err, key }, 'handoff step failed')).finally(() => busy.delete(key))
  }

  /** Submitter: pick a peer and ask it to own the job. */
  async function offerJob (job: JobRecord): Promise<void> {
    const now = c.clock()
    if (now - (offeredAt.get(job.id) ?? 0) < HANDOFF_RESEND_MS) return
    // Pieces and outputs take about as much again as the source on the new owner.
    const room = job.sourceSize * HANDOFF_DISK_FACTOR
    const peers = c.mesh.peers().filter(p => p.slotsTotal > 0 && p.diskFree >= room && p.diskFull !== true)
      .sort((a, b) => b.slotsFree - a.slotsFree || b.slotsTotal - a.slotsTotal)
    // Keep asking the same peer while it is around: it may already be fetching the source.
    const to =
      peers.find(p => p.id === job.handoffTo)?.id ?? peers.find(p => p.id !== job.handoffTo)?.id ?? peers[0]?.id
    if (to == null) return
    offeredAt.set(job.id, now)
    let source = sourceRefs.get(job.id)
    if (source == null) {
      source = { hash: await hashFile(job.source), size: job.sourceSize }
      sourceRefs.set(job.id, source)
    }
    if (job.handoffTo !== to) await c.store.append(job.id, { type: 'job:handoff-sent', to })
    log.info({ jobId: job.id, to }, 'asking a peer to own the job')
    await c.bus.publish({ type: 'handoff', to, jobId: job.id, source, profile: job.profile })
  }

  /** New owner: take the job if this node can convert. */
  async function takeJob (m: Msg<'handoff'>, from: string): Promise<void> {
    const existing = c.store.job(m.jobId)
    if (existing != null) {
      if (existing.job.origin === from) await askedAgain(existing.job, from)
      return
    }
    const free = await freeDiskBytes(c.paths.root)
    if (free - m.source.size * HANDOFF_DISK_FACTOR < c.config.worker.minFreeDisk) {
      log.info({ jobId: m.jobId, origin: from }, 'not taking a handed-off job: too little disk')
      return
    }
    const hash = m.source.hash
    // Pinned until its job is in the log: a done job of the same file frees its blobs meanwhile.
    const unpin = c.blobs.pin(hash)
    // One takeover of a file at a time: a second import of the same blob would replace the file the
    // first job recorded (its time with it), and that job would find its source changed.
    const mine = (takeovers.get(hash) ?? Promise.resolve()).then(async () => await takeNew(m, from))
    const settled = mine.then(() => {}, () => {})
    takeovers.set(hash, settled)
    let refused = false
    try {
      refused = !(await mine)
    } finally {
      if (takeovers.get(hash) === settled) takeovers.delete(hash)
      unpin()
    }
    // Unless a job in the log names it (the same file handed off before) or another takeover holds it.
    if (refused && !referencedBlobs(c.store).has(hash)) await c.blobs.remove(hash)
  }

  /** Fetches the source (unless it is here) and takes the job; false if this node refused it. */
  async function takeNew (m: Msg<'handoff'>, from: string): Promise<boolean> {
    // The same file handed off before (another profile) is here already, verified when it came.
    if (!(await c.blobs.has(m.source.hash))) {
      const tmp = c.blobs.tempPath('.source')
      try {
        await c.mesh.fetchBlob(from, m.source, tmp)
        await c.blobs.importFile(tmp, { hash: m.source.hash })
      } catch (err) {
        // The next offer of this job fetches into a new name: what this one got is of no use.
        await removeFetch(tmp)
        throw err
      }
    }
    const source = c.blobs.path(m.source.hash)
    try {
      const info = await c.media.probeSource(source)
      c.media.checkProfileFits(info, m.profile)
      const stat = await fs.stat(source)
      const outDir = path.join(c.paths.root, 'handoff')
      await fs.mkdir(outDir, { recursive: true, mode: 0o700 })
      const now = c.clock()
      const job: JobRecord = {
        id: m.jobId,
        state: 'queued',
        profile: m.profile,
        source,
        sourceSize: stat.size,
        sourceMtimeMs: stat.mtimeMs,
        sourceHash: m.source.hash,
        outDir,
        output: null,
        error: null,
        owner: self,
        info,
        unitCount: 0,
        createdAt: now,
        updatedAt: now,
        origin: from,
        delivered: false
      }
      await recordEvent(c, job.id, { type: 'job:submitted', job }, { peerId: from, data: { handoffFrom: from } })
      log.info({ jobId: job.id, origin: from }, 'took over a handed-off job')
      await c.bus.publish({ type: 'handoff-accepted', origin: from, jobId: m.jobId })
      return true
    } catch (err) {
      log.warn({ err, jobId: m.jobId, origin: from }, 'could not take a handed-off job')
      await c.bus.publish(refusalMessage(m.jobId, from, toErrorBody(err)))
      return false
    }
  }

  /**
   * New owner: the submitter asks again for a job this node has: its accept was lost, or a person
   * retried the job there. A failed or cancelled job runs again (keeping its verified units); one
   * this node let go (delivered, or dropped after a cancel on the submitter) cannot, and the
   * submitter is told why.
   */
  async function askedAgain (job: JobRecord, from: string): Promise<void> {
    const refuse = async (error: ErrorBody): Promise<void> => {
      await c.bus.publish(refusalMessage(job.id, from, error))
    }
    // Told it may let the job go (delivered, or cancelled on the submitter): its copy is gone.
    if (job.delivered === true) {
      await refuse({
        code: ErrorCodes.JOB_NOT_RETRYABLE,
        message: `${c.config.name} let its copy of job ${job.id} go when the submitter was done with it; submit the file again`
      })
      return
    }
    if (job.state === 'failed' || job.state === 'cancelled') {
      try {
        await retryJob(c, job.id)
      } catch (err) {
        await refuse(toErrorBody(err))
        return
      }
    }
    // Its state goes to the submitter at the next tick, not after an ended job's long wait.
    reportedAt.delete(job.id)
    await c.bus.publish({ type: 'handoff-accepted', origin: from, jobId: job.id })
  }

  /** New owner: tell the submitter where its job stands. */
  async function reportState (job: JobRecord): Promise<void> {
    let output: BlobRef | null = null
    if (job.state === 'done' && job.output != null) {
      output = outputRefs.get(job.id) ?? { hash: await hashFile(job.output), size: (await fs.stat(job.output)).size }
      outputRefs.set(job.id, output)
    }
    const view = c.store.job(job.id)
    if (view == null) return
    await c.bus.publish(jobStateMessage(job, init.status(view), output))
  }

  /** Submitter: mirror the remote state; once done, fetch the verified output into place. */
  async function onJobState (m: Msg<'job-state'>, from: string): Promise<void> {
    const view = c.store.job(m.jobId)
    if (view == null || view.job.handoffTo !== from) return
    const job = view.job
    if (job.state === 'cancelled') {
      // Cancelled here: nothing more is taken from the new owner, which is not told to stop (the
      // protocol has no cancel); once it says the job ended, it is told it may drop its copy.
      if (TERMINAL_JOB_STATES.includes(m.state)) await c.bus.publish({ type: 'delivered', owner: from, jobId: job.id })
      return
    }
    if (job.owner !== from) {
      // Until the node accepts the job (handoff-accepted, which an offer sent again asks for anew),
      // only its refusal counts: a late report of its earlier run (failed, before a retry here)
      // would undo the retry.
      if (isRefusal(m)) await recordRemoteState(job, m)
      return
    }
    mirrors.set(job.id, mirrorOf(m))
    if (job.state === 'done') {
      await c.bus.publish({ type: 'delivered', owner: from, jobId: job.id })
      return
    }
    if (m.state === 'done' && m.output != null) {
      const fetched = m.output
      const output = await placeFile(
        { dir: job.outDir, name: finalOutputName(job), temp: placementTemp(job.outDir, job.id, 'handoff') },
        {
          write: async (tmp) => await c.mesh.fetchBlob(from, fetched, tmp),
          record: async (placed) => { await c.store.append(job.id, { type: 'job:done', output: placed }) }
        }
      )
      c.events.emit('job:done', { jobId: job.id, data: { output, convertedBy: from } })
      log.info({ jobId: job.id, output }, 'handed-off job delivered')
      await c.bus.publish({ type: 'delivered', owner: from, jobId: job.id })
    } else if (m.state !== job.state && m.state !== 'done') {
      await recordRemoteState(job, m)
    }
  }

  /** Submitter: the job's state as the node that has it says. */
  async function recordRemoteState (job: JobRecord, m: Msg<'job-state'>): Promise<void> {
    await c.store.append(job.id, {
      type: 'job:remote-state',
      state: m.state,
      error: m.error == null ? null : { code: m.error.code as ErrorCode, message: m.error.message }
    })
    if (TERMINAL_JOB_STATES.includes(m.state)) {
      c.events.emit(m.state === 'failed' ? 'job:failed' : 'job:cancelled', { jobId: job.id, data: { ...m.error } })
    }
  }

  async function onDelivered (m: Msg<'delivered'>, from: string): Promise<void> {
    const view = c.store.job(m.jobId)
    if (view == null || view.job.origin !== from || view.job.delivered === true) return
    await c.store.append(m.jobId, { type: 'job:delivered' })
    if (view.job.output != null) await fs.rm(view.job.output, { force: true })
    // The same file handed off twice (another profile) shares its source blob with the other job
    // (one still being taken over holds it pinned).
    const source = view.job.sourceHash
    if (source != null && blobsOnlyFor(c, m.jobId).has(source)) await c.blobs.remove(source)
    outputRefs.delete(m.jobId)
  }

  function tick (): void {
    const now = c.clock()
    for (const { job } of c.store.each()) {
      if (job.handoff === true && job.owner === self && job.state === 'queued' && job.attention == null) {
        once(`offer:${job.id}`, () => offerJob(job))
      }
      const last = reportedAt.get(job.id) ?? { at: 0, every: JOB_STATE_EVERY_MS }
      if (job.origin != null && job.delivered !== true && now - last.at >= last.every) {
        reportedAt.set(job.id, { at: now, every: nextStateWait(last.every, TERMINAL_JOB_STATES.includes(job.state)) })
        once(`state:${job.id}`, () => reportState(job))
      }
    }
  }

  /** The job messages the handoff handles (node.ts routes them here). */
  const messages = {
    handoff: (m, from) => {
      if (m.to === self && c.config.worker.slots > 0) once(`take:${m.jobId}`, () => takeJob(m, from))
    },
    'handoff-accepted': (m, from) => {
      const job = c.store.job(m.jobId)?.job
      // A job cancelled while its handoff was on the way stays cancelled.
      if (job?.handoffTo === from && job.owner === self && job.state !== 'cancelled') {
        once(`accepted:${m.jobId}`, async () => {
          await c.store.append(m.jobId, { type: 'job:handed-off', to: from })
          c.events.emit('job:running', { jobId: m.jobId, peerId: from, data: { handedOffTo: from } })
        })
      }
    },
    'job-state': (m, from) => { if (m.origin === self) once(`mirror:${m.jobId}`, () => onJobState(m, from)) },
    delivered: (m, from) => once(`delivered:${m.jobId}`, () => onDelivered(m, from))
  } satisfies SideMessages

  return {
    messages,
    forget (jobId) {
      for (const map of [sourceRefs, outputRefs, offeredAt, reportedAt, mirrors]) map.delete(jobId)
    },
    async authorizeBlob (peer, hash) {
      for (const { job } of c.store.each()) {
        if (job.handoffTo === peer && sourceRefs.get(job.id)?.hash === hash) return job.source
        if (job.origin === peer && job.state === 'done' && job.output != null && outputRefs.get(job.id)?.hash === hash) {
          return job.output
        }
      }
      return null
    },
    async start () {
      // State changes reach the submitter at once, not only on the periodic repeat.
      unsubscribe = c.events.on((e) => {
        const job = e.jobId == null ? undefined : c.store.job(e.jobId)?.job
        if (
          job?.origin != null &&
          (e.type === 'job:done' ||
            e.type === 'job:failed' ||
            e.type === 'job:retried' ||
            e.type === 'job:units-planned' ||
            e.type === 'job:planned' ||
            e.type === 'job:assembling')
        ) {
          reportedAt.set(job.id, { at: 0, every: JOB_STATE_EVERY_MS })
        }
        // Submitter: a job retried here is offered again at the next tick, not a resend's wait later.
        if (e.type === 'job:retried' && job?.handoff === true) offeredAt.delete(job.id)
      })
      timer = setInterval(tick, TICK_MS)
    },
    async stop () {
      clearInterval(timer)
      unsubscribe()
      unsubscribe = () => {}
    }
  }
}

/**
 * What a new owner tells the submitter of a job. Its error's message is cut to what the message's
 * schema takes: a unit's ffmpeg stderr tail, with the reasons around it, runs longer, and a
 * message over it would never be sent (the submitter would show the job running for ever).
 */
export function jobStateMessage (
  job: JobRecord,
  status: JobStatus,
  output: BlobRef | null
): MessageBody<Extract<JobMessage, { type: 'job-state' }>> {
  return {
    type: 'job-state',
    origin: job.origin as string,
    jobId: job.id,
    state: job.state,
    progress: status.progress,
    error: job.error == null ? null : wireErrorBody(job.error),
    output,
    units: reportedUnits(status)
  }
}

/** A node's refusal of a job handed to it: what isRefusal tells apart on the submitter. */
function refusalMessage (jobId: string, origin: string, error: ErrorBody): MessageBody<Msg<'job-state'>> {
  return {
    type: 'job-state',
    origin,
    jobId,
    state: 'failed',
    progress: 0,
    error: wireErrorBody(error),
    output: null,
    units: null
  }
}

/**
 * A node's answer that it did not take a job handed to it (its takeover failed, or it let the job
 * go before): failed, with no units and no output, as takeJob and askedAgain send it.
 */
function isRefusal (m: Pick<Msg<'job-state'>, 'state' | 'units' | 'output'>): boolean {
  return m.state === 'failed' && m.units == null && m.output == null
}
