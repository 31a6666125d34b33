import { describe, expect, it } from 'vitest'
import type { NodeEvent } from '@ffmesh/protocol'
import { createEventBus } from '../../events.js'
import { createLogger } from '../../logger.js'
import { createDiskMonitor } from './disk-monitor.js'

const MiB = 1024 * 1024

/** A monitor over stand-in filesystems whose free bytes the test sets. */
function harness (init: { reserve: number, spokenFor?: number }) {
  const free = new Map<string, number>([['/data', 100 * MiB], ['/out', 100 * MiB]])
  const events: NodeEvent[] = []
  const bus = createEventBus()
  bus.on(e => events.push(e))
  const outputs = ['/out']
  const disk = createDiskMonitor(
    { logger: createLogger({ level: 'silent' }), events: bus, freeBytes: async dir => free.get(dir) ?? 0 },
    {
      dataDir: '/data',
      reserve: init.reserve,
      outputs: () => outputs,
      spokenFor: () => init.spokenFor ?? 0
    }
  )
  return { disk, free, events, outputs }
}

describe('disk monitor', () => {
  it('says full below the reserve, on the data dir or an output folder in use, and ok again only a margin above it', async () => {
    const h = harness({ reserve: 10 * MiB })
    await h.disk.refresh()
    expect(h.disk.fullFor('/out')).toBeNull()
    h.free.set('/out', 9 * MiB)
    await h.disk.refresh()
    expect(h.disk.fullFor('/out')).toMatchObject({ full: true, dir: '/out', what: 'output folder' })
    expect(h.disk.fullFor('/elsewhere')).toBeNull()
    // Back just above the reserve is not enough; a tenth of it more is.
    h.free.set('/out', 10.5 * MiB)
    await h.disk.refresh()
    expect(h.disk.fullFor('/out')).not.toBeNull()
    h.free.set('/out', 11.5 * MiB)
    await h.disk.refresh()
    expect(h.disk.fullFor('/out')).toBeNull()
    h.free.set('/data', 1 * MiB)
    await h.disk.refresh()
    expect(h.disk.fullFor()).toMatchObject({ full: true, what: 'data dir' })
    expect(h.events.map(e => [e.type, e.data?.dir])).toEqual([
      ['node:disk-full', '/out'],
      ['node:disk-ok', '/out'],
      ['node:disk-full', '/data']
    ])
  })

  it('counts the job log\'s released reserve as spoken for, and measures a submit\'s folder at once', async () => {
    const h = harness({ reserve: 10 * MiB, spokenFor: 4 * MiB })
    h.free.set('/data', 12 * MiB)
    await h.disk.refresh()
    expect(h.disk.dataDir()).toMatchObject({ full: true, free: 8 * MiB })
    h.free.set('/data', 100 * MiB)
    h.free.set('/new-out', 1 * MiB)
    expect(await h.disk.check('/new-out')).toMatchObject({ full: true, dir: '/new-out' })
  })
})
