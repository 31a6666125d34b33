import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { isNodeAway, waitingForNode } from './node-return.js'

const away = (): FfmeshError =>
  new FfmeshError(ErrorCodes.NODE_NOT_RUNNING, 'no ffmesh node is running for data dir /d', { socketError: 'ECONNREFUSED' })

/** A call that fails with `failure` the first `times` times, then answers. */
function flaky (times: number, failure: () => unknown = away) {
  let calls = 0
  const call = async (): Promise<string> => {
    calls++
    if (calls <= times) throw failure()
    return 'answer'
  }
  return { call, calls: () => calls }
}

afterEach(() => { vi.useRealTimers() })

describe('waiting for a node that stopped answering', () => {
  it('asks again until the node answers, and says once that it went and once that it came back', async () => {
    const said: string[] = []
    const wait = waitingForNode({ pollMs: 1, onAway: ms => said.push(`away ${ms}`), onBack: () => said.push('back') })
    const node = flaky(3)
    await expect(wait(node.call)).resolves.toBe('answer')
    expect(node.calls()).toBe(4)
    expect(said).toEqual(['away 300000', 'back'])
    // A node that answers says nothing.
    await expect(wait(flaky(0).call)).resolves.toBe('answer')
    expect(said).toHaveLength(2)
  })

  it('takes a connection the node closed midway for a node going away', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    expect(isNodeAway(reset)).toBe(true)
    await expect(waitingForNode({ pollMs: 1 })(flaky(2, () => reset).call)).resolves.toBe('answer')
  })

  it('gives up after its wait with NODE_NOT_RUNNING that says how long it waited and what to run', async () => {
    vi.useFakeTimers()
    const wait = waitingForNode({ waitMs: 300_000, pollMs: 1_000 })
    const node = flaky(Number.POSITIVE_INFINITY)
    const result = wait(node.call).catch((err: unknown) => err)
    await vi.advanceTimersByTimeAsync(300_000)
    const err = await result
    expect(err).toMatchObject({
      code: 'NODE_NOT_RUNNING',
      message: expect.stringMatching(/^no ffmesh node is running for data dir \/d; waited 300 s for it to come back\./)
    })
    expect((err as Error).message).toContain('ffmesh status --watch')
    expect(node.calls()).toBe(301)
  })

  it('ends at once on any other error, on a socket this user may not open, and on an abort', async () => {
    const wrong = flaky(1, () => new FfmeshError(ErrorCodes.JOB_NOT_FOUND, 'no job x'))
    await expect(waitingForNode({ pollMs: 1 })(wrong.call)).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' })
    expect(wrong.calls()).toBe(1)

    const denied = flaky(1, () => new FfmeshError(ErrorCodes.NODE_NOT_RUNNING, 'permission denied', { socketError: 'EACCES' }))
    await expect(waitingForNode({ pollMs: 1 })(denied.call)).rejects.toMatchObject({ message: 'permission denied' })
    expect(denied.calls()).toBe(1)

    const abort = new AbortController()
    abort.abort()
    const stopped = flaky(1)
    await expect(waitingForNode({ pollMs: 1, signal: abort.signal })(stopped.call)).rejects.toMatchObject({
      code: 'NODE_NOT_RUNNING'
    })
    expect(stopped.calls()).toBe(1)
  })
})
