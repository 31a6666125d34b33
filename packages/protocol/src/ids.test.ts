import { describe, expect, it } from 'vitest'
import { isJobId, newJobId } from './ids.js'

describe('job ids', () => {
  it('sort in the order they were made, also within one millisecond', () => {
    const now = Date.UTC(2026, 0, 1)
    const made = Array.from({ length: 200 }, () => newJobId(now))
    expect(made.every(isJobId)).toBe(true)
    expect(new Set(made).size).toBe(made.length)
    expect([...made].sort()).toEqual(made)
    // A later millisecond sorts after, with fresh random digits; its first 10 characters are the time.
    const later = newJobId(now + 1)
    expect(later > (made.at(-1) as string)).toBe(true)
    expect(later.slice(0, 10)).not.toBe((made[0] as string).slice(0, 10))
  })
})
