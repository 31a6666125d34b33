import { JOB_ID_PATTERN } from './limits.js'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * A ULID: 48 bits of milliseconds then 80 random bits, so job ids sort by submission time in
 * LevelDB and in `ffmesh status` without a second index.
 */
export function newJobId (now: number = Date.now()): string {
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time
    t = Math.floor(t / 32)
  }
  const random = new Uint8Array(16)
  globalThis.crypto.getRandomValues(random)
  let rand = ''
  for (let i = 0; i < 16; i++) rand += CROCKFORD[random[i] % 32]
  return time + rand
}

export function isJobId (value: unknown): value is string {
  return typeof value === 'string' && JOB_ID_PATTERN.test(value)
}

/** Units are addressed by job and index; this is the one place that spells the key. */
export function unitKey (jobId: string, index: number): string {
  return `${jobId}:${String(index).padStart(5, '0')}`
}
