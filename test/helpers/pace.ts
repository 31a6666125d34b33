import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

/**
 * How much slower this machine runs now than the quiet 2-core machine the suite's limits were set
 * on. vitest.config.ts measures it once per run with a reference encode and hands it to every test
 * worker as FFMESH_TEST_PACE; every wait limit in the suite goes through `paced`, so a busy or
 * slower host stretches the limits with the work instead of failing a test that is merely slow.
 */
export const PACE_ENV = 'FFMESH_TEST_PACE'

/** The reference encode's wall time on a quiet machine of this project (2 vCPUs, x264 5.1). */
export const NOMINAL_REFERENCE_SECONDS = 0.4
/** A faster host does not shorten limits: they were set with room on a quiet one. */
const MIN_PACE = 1
/** Beyond this the host is not slow but stuck; a limit this stretched would only hide a hang. */
const MAX_PACE = 8

export const PACE = readPace(process.env[PACE_ENV])

function readPace (text: string | undefined): number {
  const n = Number(text)
  return Number.isFinite(n) && n >= MIN_PACE ? Math.min(n, MAX_PACE) : MIN_PACE
}

/** A wait limit written for a quiet machine, stretched to this run's pace. */
export function paced (ms: number): number {
  return Math.ceil(ms * PACE)
}

const run = promisify(execFile)

/**
 * One single-threaded x264 encode of 4 s of 640x360, three times: the median wall time against
 * NOMINAL_REFERENCE_SECONDS. Single-threaded, so a core taken by another process shows as it does
 * for the suite's ffmpeg children.
 */
export async function measurePace (): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    const started = performance.now()
    await run('ffmpeg', [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x360:rate=25:duration=4',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-threads',
      '1',
      '-f',
      'null',
      '-'
    ])
    times.push((performance.now() - started) / 1000)
  }
  const median = times.sort((a, b) => a - b)[1] as number
  return Math.round(Math.min(MAX_PACE, Math.max(MIN_PACE, median / NOMINAL_REFERENCE_SECONDS)) * 100) / 100
}
