import { describe, expect, it, vi } from 'vitest'
import { createTicker } from './ticker.js'

describe('owner ticker', () => {
  // Fake timers throughout: the ticker's interval and its kicks (setImmediate) fire when the test
  // advances the clock, so what ran is decided by the code, not by how busy the machine is.
  it('runs at once when kicked, once more after a kick that lands mid-run, never two at once', async () => {
    vi.useFakeTimers()
    try {
      let runs = 0
      let inside = 0
      let overlap = false
      let release: () => void = () => {}
      const ticker = createTicker(async () => {
        runs++
        inside++
        if (inside > 1) overlap = true
        await new Promise<void>(resolve => { release = resolve })
        inside--
        return true
      }, 60_000, () => {})
      ticker.start()
      ticker.kick()
      await vi.advanceTimersByTimeAsync(0)
      expect(runs).toBe(1)
      ticker.kick()
      ticker.kick()
      await vi.advanceTimersByTimeAsync(0)
      // Both kicks were handled (only the interval is left pending), and neither started a run.
      expect(vi.getTimerCount()).toBe(1)
      expect(runs).toBe(1)
      release()
      await vi.advanceTimersByTimeAsync(0)
      expect(runs).toBe(2)
      release()
      await vi.advanceTimersByTimeAsync(0)
      // The second run ended with no kick in it: nothing more is due before the interval.
      expect(vi.getTimerCount()).toBe(1)
      expect(runs).toBe(2)
      expect(overlap).toBe(false)
      ticker.stop()
    } finally {
      vi.useRealTimers()
    }
  })

  it('ticks on its interval, reports errors, and does nothing once stopped', async () => {
    vi.useFakeTimers()
    try {
      const errors: unknown[] = []
      let runs = 0
      const ticker = createTicker(async () => { runs++; throw new Error('boom') }, 20, err => errors.push(err))
      ticker.start()
      await vi.advanceTimersByTimeAsync(100)
      expect(runs).toBe(5)
      expect(errors).toEqual(Array.from({ length: 5 }, () => expect.objectContaining({ message: 'boom' })))
      ticker.stop()
      ticker.kick()
      await vi.advanceTimersByTimeAsync(100)
      // The kick was handled and the interval is gone: nothing is pending, and nothing ran.
      expect(vi.getTimerCount()).toBe(0)
      expect(runs).toBe(5)
    } finally {
      vi.useRealTimers()
    }
  })

  it('stops its interval after a run that finds nothing to look after, until a kick', async () => {
    vi.useFakeTimers()
    try {
      let runs = 0
      let busy = false
      const ticker = createTicker(async () => { runs++; return busy }, 200, () => {})
      /** The runs so far, once `ms` of the fake clock have passed. */
      const runsAfter = async (ms: number): Promise<number> => { await vi.advanceTimersByTimeAsync(ms); return runs }
      ticker.start()
      expect(await runsAfter(200)).toBe(1)
      // Nothing to look after: no run for as long as nothing kicks it.
      expect(await runsAfter(10_000)).toBe(1)
      // A kick runs it at once; with work found, the interval goes on again.
      busy = true
      ticker.kick()
      expect(await runsAfter(0)).toBe(2)
      expect(await runsAfter(1_000)).toBe(7)
      // The work done, it sleeps again after the next run.
      busy = false
      expect(await runsAfter(1_000)).toBe(8)
      ticker.stop()
      ticker.kick()
      expect(await runsAfter(1_000)).toBe(8)
    } finally {
      vi.useRealTimers()
    }
  })

  it('keeps ticking after a run that failed, and after one a kick landed in', async () => {
    vi.useFakeTimers()
    try {
      let runs = 0
      let release: () => void = () => {}
      const ticker = createTicker(async () => {
        runs++
        if (runs === 1) throw new Error('boom')
        if (runs === 2) await new Promise<void>(resolve => { release = resolve })
        return false
      }, 200, () => {})
      ticker.start()
      await vi.advanceTimersByTimeAsync(600)
      // The failed first run kept the interval; the second waits inside and is kicked meanwhile.
      expect(runs).toBe(2)
      ticker.kick()
      await vi.advanceTimersByTimeAsync(0)
      release()
      await vi.advanceTimersByTimeAsync(0)
      // The kick's run came after it, at once, and only then did the ticker sleep.
      expect(runs).toBe(3)
      await vi.advanceTimersByTimeAsync(10_000)
      expect(runs).toBe(3)
      ticker.stop()
    } finally {
      vi.useRealTimers()
    }
  })
})
