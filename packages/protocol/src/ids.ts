import { JOB_ID_PATTERN } from './limits.js'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** The last id made in this process: its millisecond and its random digits. */
let last: { time: number, digits: number[] } | null = null

/**
 * A ULID: 48 bits of milliseconds then 80 random bits, so job ids sort by submission time in
 * LevelDB and in `ffmesh status` without a second index. Ids made in the same millisecond take the
 * last one's random part plus one (a monotonic ULID), so they sort in the order they were made: a
 * scan submits many files in one millisecond, and the owner plans and offers in id order.
 */
export function newJobId (now: number = Date.now()): string {
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time
    t = Math.floor(t / 32)
  }
  const digits = last?.time === now ? increment(last.digits) : randomDigits()
  last = { time: now, digits }
  return time + digits.map(d => CROCKFORD[d]).join('')
}

function randomDigits (): number[] {
  const random = new Uint8Array(16)
  globalThis.crypto.getRandomValues(random)
  return [...random].map(b => b % 32)
}

/** The next number in base 32; fresh random digits in the (2^-80) case that all of them carry over. */
function increment (digits: number[]): number[] {
  const next = [...digits]
  for (let i = next.length - 1; i >= 0; i--) {
    if ((next[i] as number) < 31) {
      next[i] = (next[i] as number) + 1
      return next
    }
    next[i] = 0
  }
  return randomDigits()
}

export function isJobId (value: unknown): value is string {
  return typeof value === 'string' && JOB_ID_PATTERN.test(value)
}

/** Units are addressed by job and index; this is the one place that spells the key. */
export function unitKey (jobId: string, index: number): string {
  return `${jobId}:${String(index).padStart(5, '0')}`
}
