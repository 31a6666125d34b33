import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempJobStores } from '../../../../../test/fixtures/job-log.js'
import { createLogger } from '../../logger.js'
import type { ResultPush } from '../../mesh/types.js'
import type { JobComponents } from '../shared/deps.js'
import { createResultHold } from './held-results.js'

const temp = useTempJobStores('ffm-held-')
const OWNER = '12D3KooWLZd1ovTLzMaBH93PVtzD7HU5cycoXRwWNJEwneGoPj5G'

/** A worker whose owner is away (every push fails), with a real job log and outbox. */
async function workerWithOwnerAway () {
  const dir = await temp.tempDir()
  const store = await temp.open(dir)
  const outbox = path.join(dir, 'outbox')
  const c = {
    store,
    paths: { outbox },
    clock: Date.now,
    config: { worker: { resultRetentionSeconds: 3600 } },
    logger: createLogger({ level: 'silent' }),
    mesh: {
      pushResult: async () => { throw new Error('owner unreachable') },
      onPeerChange: () => () => {}
    }
  } as unknown as JobComponents
  const hold = createResultHold(c)
  /** A converted file of `bytes` for attempt `attempt` of unit 3, handed to the hold. */
  const deliver = async (attempt: number, bytes: string): Promise<void> => {
    const file = path.join(dir, `out-${attempt}.mkv`)
    await fs.writeFile(file, bytes)
    const push: ResultPush = {
      jobId: '01JD0000000000000000000000',
      index: 3,
      attempt,
      hash: 'a'.repeat(128),
      size: bytes.length,
      frames: 1,
      durationSec: 1
    }
    expect(await hold.deliver(OWNER, push, file)).toEqual({ ok: true })
  }
  const outboxFiles = async (): Promise<string[]> => (await fs.readdir(outbox).catch(() => [])).sort()
  return { hold, outbox, deliver, outboxFiles }
}

describe('results held for an owner that is away', () => {
  it('keeps a file for each held try, even when two tries made the same bytes', async () => {
    const w = await workerWithOwnerAway()
    await w.deliver(1, 'same converted bytes')
    await w.deliver(2, 'same converted bytes')
    expect(await w.hold.count()).toBe(2)
    expect(await w.outboxFiles()).toHaveLength(2)
    await w.hold.forgetJob('01JD0000000000000000000000')
    expect(await w.outboxFiles()).toEqual([])
  })

  it('removes at start a file in the outbox that no held result names (a crash between its two steps)', async () => {
    const w = await workerWithOwnerAway()
    await w.deliver(1, 'a held result')
    const kept = await w.outboxFiles()
    const crashed = path.join(w.outbox, 'left-by-a-crash.mkv')
    await fs.writeFile(crashed, 'never recorded')
    // Both written before this node started, as files of an earlier run are: only the held
    // result's record keeps its file.
    const before = new Date(Date.now() - 3_600_000)
    for (const file of [crashed, ...kept.map(name => path.join(w.outbox, name))]) await fs.utimes(file, before, before)
    await w.hold.start()
    await w.hold.stop()
    expect(await w.outboxFiles()).toEqual(kept)
    expect(await w.hold.count()).toBe(1)
  })
})
