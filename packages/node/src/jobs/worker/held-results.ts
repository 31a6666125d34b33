import fs from 'node:fs/promises'
import path from 'node:path'
import { unitKey, type WireErrorCode } from '@ffmesh/protocol'
import type { Ack, ResultPush } from '../../mesh/types.js'
import type { Sub } from '../../store/job-store.js'
import type { JobComponents } from '../shared/deps.js'
import { HELD_RETRY_MS } from '../shared/timing.js'

/**
 * Answers that say nothing about the result, only that the owner cannot check or record it now
 * (it is stopping, or its store failed): the result is held and pushed again, not dropped.
 */
const OWNER_NOT_READY: readonly WireErrorCode[] = ['BUSY', 'GENERIC']

interface Held { owner: string, push: ResultPush, file: string, since: number }

/**
 * Results whose owner is unreachable are kept here, in the log and in `outbox/`, surviving this
 * node's restarts, and delivered when the owner is back; after `worker.resultRetentionSeconds`
 * they are removed with a log line. The owner discards a result it already has, so a delivery
 * that raced a reconnect cannot double anything.
 */
export function createResultHold (c: JobComponents) {
  const log = c.logger.child({ component: 'held-results' })
  const area = c.store.area('held') as Sub<Held>
  const createdAt = c.clock()
  let timer: NodeJS.Timeout | undefined
  let flushing = false
  let unsubscribe = (): void => {}

  /** The owner's answer, or null when it has none yet: unreachable, or unable to take it now. */
  async function tryPush (held: Held): Promise<Ack | null> {
    try {
      const ack = await c.mesh.pushResult(held.owner, held.push, held.file)
      if (!ack.ok && OWNER_NOT_READY.includes(ack.code)) {
        log.debug({ owner: held.owner, message: ack.message }, 'owner busy')
        return null
      }
      return ack
    } catch (err) {
      log.debug({ err, owner: held.owner }, 'owner unreachable')
      return null
    }
  }

  async function drop (key: string, held: Held): Promise<void> {
    await area.del(key)
    await fs.rm(held.file, { force: true })
  }

  /**
   * Removes files in `outbox/` that no held result names: a crash came between the two steps of
   * deliver. Only files from before this process: one of its own tasks may be between them now.
   */
  async function sweepOutbox (): Promise<void> {
    const named = new Set<string>()
    for await (const [, held] of area.iterator()) named.add(held.file)
    for (const name of await fs.readdir(c.paths.outbox).catch(() => [])) {
      const file = path.join(c.paths.outbox, name)
      const stat = await fs.stat(file).catch(() => null)
      if (named.has(file) || stat == null || stat.mtimeMs >= createdAt) continue
      await fs.rm(file, { force: true })
      log.info({ file }, 'removed a result file no held result names')
    }
  }

  async function flush (onlyOwner?: string): Promise<void> {
    if (flushing) return
    flushing = true
    try {
      for await (const [key, value] of area.iterator()) {
        const held = value
        if (onlyOwner != null && held.owner !== onlyOwner) continue
        if (c.clock() - held.since > c.config.worker.resultRetentionSeconds * 1000) {
          log.warn(
            { jobId: held.push.jobId, index: held.push.index, owner: held.owner },
            'held result expired unclaimed; removed'
          )
          await drop(key, held)
          continue
        }
        const ack = await tryPush(held)
        if (ack == null) continue
        log.info({ jobId: held.push.jobId, index: held.push.index, ok: ack.ok }, 'held result delivered')
        await drop(key, held)
      }
    } finally {
      flushing = false
    }
  }

  return {
    /** Push now; if the owner cannot be reached or cannot take it yet, hold the result and say so. */
    async deliver (owner: string, push: ResultPush, file: string): Promise<Ack> {
      const ack = await tryPush({ owner, push, file, since: c.clock() })
      if (ack != null) return ack
      await fs.mkdir(c.paths.outbox, { recursive: true, mode: 0o700 })
      const key = unitKey(push.jobId, push.index) + `:${push.attempt}`
      // Named by its record, not its bytes: two held tries with equal bytes keep a file each.
      const kept = path.join(c.paths.outbox, `${key.replaceAll(':', '-')}${path.extname(file)}`)
      await fs.rename(file, kept)
      try {
        await area.put(key, { owner, push, file: kept, since: c.clock() } satisfies Held)
      } catch (err) {
        // Unrecorded, the file would never be pushed nor removed (start() sweeps such files after a crash).
        await fs.rm(kept, { force: true })
        throw err
      }
      log.info({ jobId: push.jobId, index: push.index, owner }, 'result held for later delivery')
      return { ok: true }
    },
    /** Drops the results held for one job (`ffmesh rm`); returns how many. */
    async forgetJob (jobId: string): Promise<number> {
      let dropped = 0
      for await (const [key, value] of area.iterator({ gte: `${jobId}:`, lt: `${jobId};` })) {
        await drop(key, value)
        dropped++
      }
      return dropped
    },
    count: async (): Promise<number> => {
      let n = 0
      for await (const _ of area.keys()) n++
      return n
    },
    async start (): Promise<void> {
      await sweepOutbox()
      timer = setInterval(() => { flush().catch(err => log.warn({ err }, 'flush failed')) }, HELD_RETRY_MS)
      unsubscribe = c.mesh.onPeerChange((peer, connected) => {
        if (connected) flush(peer).catch(err => log.warn({ err }, 'flush failed'))
      })
      flush().catch(err => log.warn({ err }, 'flush failed'))
    },
    async stop (): Promise<void> {
      clearInterval(timer)
      unsubscribe()
      unsubscribe = () => {}
    }
  }
}

export type ResultHold = ReturnType<typeof createResultHold>
