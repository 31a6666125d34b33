import { describe, expect, it } from 'vitest'
import { createLogger } from '../logger.js'
import type { LogLevel } from './log-db.js'
import { createLogWriter, SLOW_WRITE_MS, STALL_WARN_EVERY_MS, STALLED_WRITE_MS } from './log-writer.js'

/**
 * A writer on a database whose synced batches take the time the test gives each (on a clock only
 * the batches move), and the lines it logs.
 */
function writerOnSlowDisk () {
  const t = { now: 0, syncMs: 0 }
  const lines: Array<{ level: number, msg: string, ms?: number }> = []
  const db = {
    batch: async () => { t.now += t.syncMs },
    close: async () => {}
  } as unknown as LogLevel
  const writer = createLogWriter({
    dbPath: '/data/db',
    db,
    reserve: { missing: () => 0, ensure: async () => true, release: async () => {} },
    reopen: async () => db,
    logger: createLogger({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s)) } }),
    freeBytes: async () => Number.MAX_SAFE_INTEGER,
    now: () => t.now
  })
  const write = async (syncMs: number): Promise<void> => {
    t.syncMs = syncMs
    await writer.write(() => ({ ops: [], commit: () => undefined }), { essential: false })
  }
  const said = (level: 'warn' | 'debug'): number => lines.filter(l => l.level === (level === 'warn' ? 40 : 20)).length
  return { t, write, said, lines }
}

describe('the job log writer on a slow disk', () => {
  it('warns of a write that stalled for seconds, once a minute while it lasts, and keeps shorter slow writes at debug', async () => {
    const w = writerOnSlowDisk()
    await w.write(SLOW_WRITE_MS - 1)
    expect([w.said('warn'), w.said('debug')]).toEqual([0, 0])
    await w.write(SLOW_WRITE_MS)
    expect([w.said('warn'), w.said('debug')]).toEqual([0, 1])
    await w.write(STALLED_WRITE_MS)
    expect([w.said('warn'), w.said('debug')]).toEqual([1, 1])
    expect(w.lines.at(-1)?.msg).toBe('the job log\'s disk took 5.0 s to take one write; grants, results and job steps wait on it')
    // Still stalled within the minute: at debug, not another warning.
    await w.write(STALLED_WRITE_MS * 2)
    expect([w.said('warn'), w.said('debug')]).toEqual([1, 2])
    w.t.now += STALL_WARN_EVERY_MS
    await w.write(STALLED_WRITE_MS)
    expect([w.said('warn'), w.said('debug')]).toEqual([2, 2])
  })
})
