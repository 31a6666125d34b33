import { describe, expect, it } from 'vitest'
import { inputBytesHeldFor, MAX_INPUT_BYTES_PER_REMOTE_OWNER, withinOwnerShare } from './limits.js'

const unit = (
  owner: string,
  ...sizes: number[]
): { owner: string; spec: { inputs: Array<{ hash: string; size: number }> } } => ({
  owner,
  spec: { inputs: sizes.map(size => ({ hash: 'ab'.repeat(64), size })) }
})

describe('a remote owner\'s share of a worker', () => {
  it('counts only that owner\'s units and caps their input bytes', () => {
    const GiB = 1024 ** 3
    const held = [unit('a', 6 * GiB, 2 * GiB), unit('b', 15 * GiB)]
    expect(inputBytesHeldFor('a', held)).toBe(8 * GiB)
    expect(withinOwnerShare('a', held, 8 * GiB)).toBe(true)
    expect(withinOwnerShare('a', held, 8 * GiB + 1)).toBe(false)
    expect(withinOwnerShare('b', held, 2 * GiB)).toBe(false)
    // An owner with nothing here may always get one unit, even one larger than the share.
    expect(withinOwnerShare('c', held, 64 * GiB)).toBe(true)
    expect(MAX_INPUT_BYTES_PER_REMOTE_OWNER).toBe(16 * GiB)
  })
})
