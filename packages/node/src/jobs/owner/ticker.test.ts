import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createTicker } from './ticker.js'

describe('owner ticker', () => {
  it('runs at once when kicked, once more after a kick that lands mid-run, never two at once', async () => {
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
    }, 60_000, () => {})
    ticker.start()
    ticker.kick()
    await sleep(10)
    expect(runs).toBe(1)
    ticker.kick()
    ticker.kick()
    await sleep(10)
    expect(runs).toBe(1)
    release()
    await sleep(10)
    expect(runs).toBe(2)
    release()
    await sleep(10)
    expect(runs).toBe(2)
    expect(overlap).toBe(false)
    ticker.stop()
  })

  it('ticks on its interval, reports errors, and does nothing once stopped', async () => {
    const errors: unknown[] = []
    let runs = 0
    const ticker = createTicker(async () => { runs++; throw new Error('boom') }, 20, err => errors.push(err))
    ticker.start()
    await sleep(110)
    expect(runs).toBeGreaterThanOrEqual(2)
    expect(errors.length).toBe(runs)
    ticker.stop()
    const after = runs
    ticker.kick()
    await sleep(60)
    expect(runs).toBe(after)
  })
})
