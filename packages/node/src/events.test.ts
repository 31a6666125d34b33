import { describe, expect, it } from 'vitest'
import { createEventBus } from './events.js'

describe('the event bus', () => {
  it('gives every event an id that grows by one within a run', () => {
    const bus = createEventBus(() => 1, { window: 8 })
    const seen: string[] = []
    bus.on(e => seen.push(e.id as string))
    for (let i = 0; i < 3; i++) bus.emit('job:done', { jobId: `J${i}` })
    const [run] = (seen[0] as string).split(':')
    expect(seen).toEqual([`${run}:1`, `${run}:2`, `${run}:3`])
  })

  it('replays what came after an id while its window holds it', () => {
    const bus = createEventBus(Date.now, { window: 4 })
    const ids: string[] = []
    bus.on(e => ids.push(e.id as string))
    for (let i = 0; i < 6; i++) bus.emit('unit:progress', { jobId: 'J', index: i })
    // Window 4: events 3..6 are kept, so a client that saw 2 gets 3..6, one that saw 6 gets nothing.
    const replay = bus.since(ids[1] as string)
    expect('events' in replay && replay.events.map(e => e.index)).toEqual([2, 3, 4, 5])
    expect(bus.since(ids[5] as string)).toEqual({ events: [] })
    expect(bus.since(ids[0] as string)).toEqual({ reset: { type: 'reset', reason: 'expired' } })
  })

  it('answers an id of another run, a future one or a malformed one with a reset', () => {
    const before = createEventBus()
    let old = ''
    before.on(e => { old = e.id as string })
    before.emit('node:started')
    const bus = createEventBus()
    bus.emit('node:started')
    expect(bus.since(old)).toEqual({ reset: { type: 'reset', reason: 'restarted' } })
    const [run] = old.split(':')
    expect(before.since(`${run}:99`)).toEqual({ reset: { type: 'reset', reason: 'restarted' } })
    for (const bad of ['', 'x', '1', ':1', 'a:b', `${run}:1:2`]) expect('reset' in bus.since(bad)).toBe(true)
  })
})
