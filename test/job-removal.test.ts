import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCodes, type JobStatus, type NodeEvent } from '@ffmesh/protocol'
import { dataPaths } from '../packages/node/src/config/paths.js'
import { ffmpegFailing, makeClip, recordEvents } from './helpers/faults-cluster.js'
import {
  ffmesh,
  ffmeshJson,
  makeDataDir,
  startNodeProcess,
  waitUntil,
  type NodeProcess
} from './helpers/node-harness.js'

/**
 * Blobs of jobs that will not finish do not fill the disk: `ffmesh rm` frees a job's blobs at once,
 * and a failed job's blobs go by themselves after `jobs.failedRetentionSeconds`. One real node whose
 * ffmpeg fails every libx264 encode (so h264 jobs fail after their cut, leaving pieces behind).
 */
const RETENTION_SECONDS = 20

let root: string
let dataDir: string
let node: NodeProcess
let stopEvents: () => void = () => {}
const events: NodeEvent[] = []

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'ffm-fd-rm-'))
  const ffmpegPath = await ffmpegFailing(root, 'ffmpeg-no-x264', ['libx264'], false)
  dataDir = await makeDataDir({
    dir: path.join(root, 'data'),
    slots: 1,
    segmentSeconds: 2,
    extra: {
      ffmpeg: { ffmpegPath },
      jobs: {
        segmentSeconds: 2,
        leaseSeconds: 10,
        heartbeatSeconds: 1,
        maxAttempts: 1,
        failedRetentionSeconds: RETENTION_SECONDS
      }
    }
  })
  node = await startNodeProcess(dataDir)
  stopEvents = recordEvents(dataPaths(dataDir).controlSocket, events)
})
afterAll(async () => {
  stopEvents()
  await node?.stop()
  await fs.rm(root, { recursive: true, force: true })
})

/** Blob files of the node's own jobs (pieces and unit results). */
async function blobFiles (): Promise<string[]> {
  const entries = await fs.readdir(dataPaths(dataDir).blobs, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries.filter(e => e.isFile()).map(e => path.join(e.parentPath, e.name)).sort()
}

const submit = async (clip: string, profile: string): Promise<string> =>
  (
    await ffmeshJson<{ id: string }>(['submit', clip, '--profile', profile, '--out', path.join(root, 'out')], {
      dataDir
    })
  ).id
const status = (id: string): Promise<JobStatus> => ffmeshJson<JobStatus>(['status', id], { dataDir })

describe('blobs of jobs that will not finish are freed', () => {
  it("rm refuses an active job with JOB_ACTIVE, then frees a cancelled job's blobs; a failed job's blobs go after their retention", async () => {
    const failing = await submit(await makeClip(root, 'fails.mp4', 8, '320x240', 1), 'h264')
    const failed = await waitUntil(
      async () => {
        const s = await status(failing)
        return s.state === 'failed' ? s : null
      },
      'the h264 job to fail',
      120_000
    )
    expect(failed.error?.code).toBe(ErrorCodes.ATTEMPTS_EXHAUSTED)
    // The reason's code once, then the worker that failed and what ffmpeg said.
    expect(failed.error?.message).toMatch(/; last reason: CONVERT_FAILED from \w+: \S+ exited with 1: simulated encoder failure/)
    const failedBlobs = await blobFiles()
    expect(failedBlobs.length).toBeGreaterThan(0)

    // An h265 job runs (this ffmpeg fails only libx264): refused while active, removed once cancelled.
    const running = await submit(await makeClip(root, 'runs.mp4', 8, '320x240', 2), 'h265')
    await waitUntil(
      async () => events.some(e => e.type === 'job:planned' && e.jobId === running),
      'the h265 job to be planned',
      60_000
    )
    const active = await ffmesh(['rm', running, '--json'], { dataDir })
    expect(active.code).not.toBe(0)
    expect((JSON.parse(active.stdout) as { error: { code: string } }).error.code).toBe(ErrorCodes.JOB_ACTIVE)
    expect((await blobFiles()).length).toBeGreaterThan(failedBlobs.length)
    expect((await ffmesh(['cancel', running], { dataDir })).code).toBe(0)
    const removed = await ffmeshJson<{ id: string; removed: boolean; blobsFreed: number }>(['rm', running], { dataDir })
    expect(removed).toMatchObject({ id: running, removed: true })
    expect(removed.blobsFreed).toBeGreaterThan(0)
    // Only the failed job's blobs are left (a unit result of the cancelled job may land later: it is refused).
    expect(await blobFiles()).toEqual(failedBlobs)
    const gone = await ffmesh(['status', running, '--json'], { dataDir })
    expect((JSON.parse(gone.stdout) as { error: { code: string } }).error.code).toBe(ErrorCodes.JOB_NOT_FOUND)

    // The failed job keeps its blobs for `retry` until its retention ends, then they go and the job
    // says so (the event is logged after the files are gone, and reaches this test after that).
    await waitUntil(
      async () => events.find(e => e.type === 'job:blobs-freed' && e.jobId === failing),
      `the failed job's blobs to be freed after ${RETENTION_SECONDS} s`,
      RETENTION_SECONDS * 1000 * 4
    )
    expect(await blobFiles()).toEqual([])
    expect(Date.now() - failed.updatedAt).toBeGreaterThanOrEqual(RETENTION_SECONDS * 1000)
    const retry = await ffmesh(['retry', failing, '--json'], { dataDir })
    expect((JSON.parse(retry.stdout) as { error: { code: string } }).error.code).toBe(ErrorCodes.JOB_NOT_RETRYABLE)
    // The record stays until a person removes it.
    expect((await status(failing)).state).toBe('failed')
    expect((await ffmeshJson<{ removed: boolean }>(['rm', failing], { dataDir })).removed).toBe(true)
  })
})
