import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../logger.js'
import type { LogLevel } from './log-db.js'
import { createLogWriter, SLOW_WRITE_MS, STALL_WARN_EVERY_MS, STALLED_WRITE_MS } from './log-writer.js'

/**
 * A writer on a database whose synced batches end when the test says, on fake timers (the writer's
 * clock is the faked Date), and the warn and debug lines it logs.
 */
function writerOnSlowDisk () {
  let finish = (): void => {}
  const db = {
    batch: async () => await new Promise<void>(resolve => { finish = resolve }),
    close: async () => {}
  } as unknown as LogLevel
  const lines: Array<{ level: number, msg: string }> = []
  const writer = createLogWriter({
    dbPath: '/data/db',
    db,
    reserve: { missing: () => 0, ensure: async () => true, release: async () => {} },
    reopen: async () => db,
    logger: createLogger({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s)) } }),
    freeBytes: async () => Number.MAX_SAFE_INTEGER,
    now: () => Date.now()
  })
  /** A write whose sync takes `ms`; what it logged while it waited, and once it ended. */
  const write = async (ms: number): Promise<{ during: string[], after: string[] }> => {
    const from = lines.length
    const written = writer.write(() => ({ ops: [], commit: () => undefined }), { essential: false })
    await vi.advanceTimersByTimeAsync(ms)
    const during = said(from)
    finish()
    await written
    return { during, after: said(from + during.length) }
  }
  const said = (from: number): string[] =>
    lines.slice(from).map(l => `${l.level === 40 ? 'warn' : l.level === 20 ? 'debug' : l.level}: ${l.msg}`)
  return { write }
}

describe('the job log writer on a slow disk', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('warns while a write stalls for seconds and when it ends, once a minute while it lasts; a shorter slow write stays at debug', async () => {
    const w = writerOnSlowDisk()
    expect(await w.write(SLOW_WRITE_MS - 1)).toEqual({ during: [], after: [] })
    expect(await w.write(SLOW_WRITE_MS)).toEqual({ during: [], after: ['debug: slow job log write'] })
    // A disk that does not answer says so before the write ends.
    expect(await w.write(STALLED_WRITE_MS + 7_400)).toEqual({
      during: ['warn: a job log write has waited 5 s on its disk; grants, results and job steps wait on it'],
      after: ['warn: the job log\'s disk took 12.4 s to take one write']
    })
    // Still stalling within the minute: at debug.
    expect(await w.write(STALLED_WRITE_MS)).toEqual({ during: [], after: ['debug: slow job log write'] })
    await vi.advanceTimersByTimeAsync(STALL_WARN_EVERY_MS)
    expect((await w.write(STALLED_WRITE_MS)).during).toHaveLength(1)
  })
})
