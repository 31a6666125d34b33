import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ErrorCodes } from '@ffmesh/protocol'
import { jobRecord } from '../../../../test/fixtures/job-log.js'
import type { JobRecord, SwapIntent } from '../store/records.js'
import { CAN_MOUNT, mountSmallDisk, NO_MOUNT_REASON } from '../../../../test/helpers/tmpfs.js'
import { completeSwap, fileIdentity, swapIntent, sweepTrash, TRASH_DIR } from './swap.js'

/**
 * The swap's steps on real files (a library of one file, its temp beside it), for what a restart or
 * a failed step leaves behind. The crash at each step of a whole node is test/faults/library-swap.
 */
const execFileAsync = promisify(execFile)
// eslint-disable-next-line no-console -- a skipped test says why, once
if (!CAN_MOUNT) console.warn(`packages/node/src/library/swap.test.ts: ${NO_MOUNT_REASON}`)
let root: string
beforeEach(async () => { root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-swap-')) })
afterEach(async () => { await fs.rm(root, { recursive: true, force: true }) })

const ORIGINAL = 'the original, as it was submitted'
const OUTPUT = 'the verified output'

/** A library job for `name` under `root`, its source written and its temp holding the verified output. */
async function swapping (name: string, outName: string): Promise<{ job: JobRecord, intent: SwapIntent, tmp: string }> {
  const source = path.join(root, name)
  await fs.mkdir(path.dirname(source), { recursive: true })
  await fs.writeFile(source, ORIGINAL)
  await fs.chmod(source, 0o644)
  const stat = await fs.stat(source)
  const job = jobRecord('01JSWAPTEST00000000000000', {
    source,
    sourceSize: stat.size,
    sourceMtimeMs: stat.mtimeMs,
    outDir: root,
    library: {
      root,
      profiles: { video: 'h265' },
      rules: { minSize: 0, minBitrateKbps: 0, minSavingPercent: 0 },
      sidecars: [],
      replace: true,
      batch: 'b'
    }
  })
  const tmp = path.join(path.dirname(source), '.ffmesh-swap.partial')
  await fs.writeFile(tmp, OUTPUT, { mode: 0o600 })
  return { job, intent: { ...await swapIntent(job, outName), output: await fileIdentity(tmp) }, tmp }
}

const read = async (file: string): Promise<string | null> => await fs.readFile(file, 'utf8').catch(() => null)

describe('completeSwap', () => {
  it('puts the output in the original\'s place with the original\'s permissions, the original in the trash', async () => {
    const { job, intent, tmp } = await swapping('ep.mkv', 'ep.mkv')
    expect(await completeSwap(job, intent, tmp)).toBe(true)
    expect(await read(job.source)).toBe(OUTPUT)
    expect((await fs.stat(job.source)).mode & 0o777).toBe(0o644)
    expect(await read(intent.trash)).toBe(ORIGINAL)
    expect(await read(tmp)).toBeNull()
  })

  it('drops a swap whose output is gone and whose temp is being written again: the original keeps its name', async () => {
    // The swap's step failed, its temp was removed, and the next assembly writes the temp anew
    // when the node restarts: that half-written file must never take the original's place.
    const { job, intent, tmp } = await swapping('ep.mkv', 'ep.mkv')
    await fs.rm(tmp)
    // As long as the output, and maybe on its freed inode: only its time tells it apart.
    await fs.writeFile(tmp, 'half of a new assem')
    const later = new Date(Date.now() + 1_000)
    await fs.utimes(tmp, later, later)
    expect((await fs.stat(tmp)).size).toBe(intent.output?.size)
    expect(await completeSwap(job, intent, tmp)).toBe(false)
    expect(await read(job.source)).toBe(ORIGINAL)
    expect(await read(intent.trash)).toBeNull()
  })

  it('keeps the original when its new name was taken meanwhile: OUTPUT_NOT_WRITABLE, and a restart leaves it', async () => {
    const { job, intent, tmp } = await swapping('film.mp4', 'film.mkv')
    await fs.writeFile(intent.final, 'another file that took the name')
    await expect(completeSwap(job, intent, tmp)).rejects.toMatchObject({ code: ErrorCodes.OUTPUT_NOT_WRITABLE })
    expect(await read(job.source)).toBe(ORIGINAL)
    // The failed placement removes its temp; a restart with the swap still logged moves nothing.
    await fs.rm(tmp)
    expect(await completeSwap(job, intent, tmp)).toBe(false)
    expect(await read(job.source)).toBe(ORIGINAL)
    expect(await read(intent.final)).toBe('another file that took the name')
  })

  it('never replaces a new file another program put at the source\'s name: SOURCE_CHANGED, the new file kept', async () => {
    const { job, intent, tmp } = await swapping('ep.mkv', 'ep.mkv')
    await fs.writeFile(job.source, 'a new release of the episode')
    await expect(completeSwap(job, intent, tmp)).rejects.toMatchObject({ code: ErrorCodes.SOURCE_CHANGED })
    expect(await read(job.source)).toBe('a new release of the episode')
  })

  it('after the output is in under its new name, keeps a new file at the old name instead of removing it', async () => {
    const { job, intent, tmp } = await swapping('film.mp4', 'film.mkv')
    // The steps up to the link, as a node that stopped right after it left them.
    await fs.mkdir(path.dirname(intent.trash), { recursive: true })
    await fs.link(job.source, intent.trash)
    await fs.link(tmp, intent.final)
    await fs.unlink(tmp)
    await fs.rm(job.source)
    await fs.writeFile(job.source, 'a new release of the film')
    expect(await completeSwap(job, intent, tmp)).toBe(true)
    expect(await read(job.source)).toBe('a new release of the film')
    expect(await read(intent.final)).toBe(OUTPUT)
    expect(await read(intent.trash)).toBe(ORIGINAL)
  })

  it('finishes a swap stopped after its link: the old name goes, the output stays', async () => {
    const { job, intent, tmp } = await swapping('film.mp4', 'film.mkv')
    await fs.mkdir(path.dirname(intent.trash), { recursive: true })
    await fs.link(job.source, intent.trash)
    await fs.link(tmp, intent.final)
    expect(await completeSwap(job, intent, tmp)).toBe(true)
    expect(await read(job.source)).toBeNull()
    expect(await read(intent.final)).toBe(OUTPUT)
    expect(await read(tmp)).toBeNull()
    expect(await read(intent.trash)).toBe(ORIGINAL)
  })

  it.skipIf(!CAN_MOUNT)('keeps an original on another disk mounted in the library by a link on that disk, and sweeps it there', async () => {
    const disk = await mountSmallDisk('ffm-swap-disk-', 8)
    const films = path.join(root, 'films')
    try {
      await fs.mkdir(films)
      await execFileAsync('mount', ['--bind', disk.dir, films])
      try {
        const { job, intent, tmp } = await swapping('films/Heat (1995)/heat.mkv', 'heat.mkv')
        const original = await fs.stat(job.source)
        expect(intent.trash).toBe(path.join(films, TRASH_DIR, job.id, 'Heat (1995)/heat.mkv'))
        expect(await completeSwap(job, intent, tmp)).toBe(true)
        // A second name for the same file: nothing was copied onto the root's disk.
        expect((await fs.stat(intent.trash)).ino).toBe(original.ino)
        expect(await fs.readdir(root)).not.toContain(TRASH_DIR)
        expect(await sweepTrash(root, 30, Date.now())).toBe(0)
        expect(await sweepTrash(root, 30, Date.now() + 31 * 86_400_000)).toBe(1)
        expect(await fs.readdir(path.join(films, TRASH_DIR))).toEqual([])
      } finally {
        await execFileAsync('umount', [films])
      }
    } finally {
      await disk.unmount()
    }
  })
})
