import { ErrorCodes } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'
import { lookAgain } from './touched-file.js'

const failing = (code: string) => async (): Promise<string> => {
  throw Object.assign(new Error(`${code}: failed`), { code })
}

describe('lookAgain', () => {
  it('says whether the bytes are the ones converted', async () => {
    expect(await lookAgain('/lib/a.mkv', 'abc', async () => 'abc')).toEqual({ same: true })
    expect(await lookAgain('/lib/a.mkv', 'abc', async () => 'abd')).toEqual({ same: false })
  })

  it('makes a file it cannot read that file\'s failure, not the scan\'s', async () => {
    const denied = await lookAgain('/lib/a.mkv', 'abc', failing('EACCES'))
    expect(denied).toEqual({ error: { code: ErrorCodes.SOURCE_NOT_FOUND, message: expect.stringContaining('EACCES') } })
    const gone = await lookAgain('/lib/a.mkv', 'abc', failing('ENOENT'))
    expect(gone).toEqual({ error: { code: ErrorCodes.SOURCE_NOT_FOUND, message: expect.stringContaining('removed') } })
    expect(await lookAgain('/lib/a.mkv', 'abc', failing('EIO'))).toMatchObject({ error: { message: /EIO/ } })
  })

  it('passes a stop on: an aborted scan is not a file that failed', async () => {
    const stop = new AbortController()
    stop.abort()
    await expect(lookAgain('/lib/a.mkv', 'abc', failing('ABORT_ERR'), { signal: stop.signal })).rejects.toThrow()
  })
})
