import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import { failureCode, UnitRefusal } from './unit-task.js'

describe('the wire code a worker gives back a unit with', () => {
  it('says the owner is unreachable, not that the unit failed, when its blob stream cannot be opened', () => {
    expect(failureCode(new FfmeshError(ErrorCodes.PEER_UNREACHABLE, 'cannot open a blob stream'))).toBe(
      'OWNER_UNREACHABLE'
    )
  })

  it('keeps refusals, timeouts and convert failures apart, and calls anything else GENERIC', () => {
    expect(failureCode(new UnitRefusal('DISK_FULL', 'full'))).toBe('DISK_FULL')
    expect(failureCode(new FfmeshError(ErrorCodes.CONVERT_TIMEOUT, 'slow'))).toBe('TIMEOUT')
    expect(failureCode(new FfmeshError(ErrorCodes.CONVERT_FAILED, 'bad'))).toBe('CONVERT_FAILED')
    expect(failureCode(new Error('other'))).toBe('GENERIC')
  })
})
