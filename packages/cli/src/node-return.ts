import { ErrorCodes, FfmeshError, isFfmeshError } from '@ffmesh/protocol'

/**
 * How long a command that follows jobs (`submit --wait`, `status --watch`, `scan --wait`) waits
 * for a node that stopped answering: a service restart (an upgrade, `systemctl restart`) takes
 * seconds, and the node's jobs go on where they were, so a script waiting on them should not fail.
 * A node that stays away longer is reported, rather than waited on without end.
 */
export const NODE_RETURN_WAIT_MS = 5 * 60_000
/** How often the control socket is tried while the node is away. */
export const NODE_RETURN_POLL_MS = 1_000

/** Socket errors of a node that went away in the middle of a request. */
const DROPPED = ['ECONNRESET', 'EPIPE']

/**
 * Whether `err` says the node is not answering now (its socket is gone or refuses, or it closed the
 * connection midway) rather than that the request was wrong. A socket this user may not open
 * (EACCES) does not fix itself, and is not counted.
 */
export function isNodeAway (err: unknown): boolean {
  if (isFfmeshError(err)) return err.code === ErrorCodes.NODE_NOT_RUNNING && err.details?.socketError !== 'EACCES'
  return DROPPED.includes((err as NodeJS.ErrnoException | null)?.code ?? '')
}

export interface NodeReturnInit {
  waitMs?: number
  pollMs?: number
  /** Said once when the node stops answering, with how long it is waited for. */
  onAway?: (waitMs: number) => void
  /** Said once when it answers again. */
  onBack?: () => void
  signal?: AbortSignal
}

/** Runs a control call; while the node is away, runs it again until it answers (see isNodeAway). */
export type NodeCall = <T>(call: () => Promise<T>) => Promise<T>

/**
 * A NodeCall for one command: a node that is away makes every call wait, together, for up to
 * `waitMs` from when it first did not answer; then the call fails with NODE_NOT_RUNNING saying how
 * long it was waited for. Any other error, and an abort, end the call at once.
 */
export function waitingForNode (init: NodeReturnInit = {}): NodeCall {
  const waitMs = init.waitMs ?? NODE_RETURN_WAIT_MS
  const pollMs = init.pollMs ?? NODE_RETURN_POLL_MS
  let awaySince: number | null = null
  return async <T>(call: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        const value = await call()
        if (awaySince != null) {
          awaySince = null
          init.onBack?.()
        }
        return value
      } catch (err) {
        if (!isNodeAway(err) || init.signal?.aborted === true) throw err
        const now = Date.now()
        if (awaySince == null) {
          awaySince = now
          init.onAway?.(waitMs)
        }
        if (now - awaySince >= waitMs) {
          const why = isFfmeshError(err) ? err.message : `the node closed the control connection (${String((err as NodeJS.ErrnoException).code)})`
          throw new FfmeshError(
            ErrorCodes.NODE_NOT_RUNNING,
            `${why}; waited ${Math.round(waitMs / 1000)} s for it to come back. Its jobs go on when it ` +
              'starts again: follow them with `ffmesh status --watch`'
          )
        }
        await pause(pollMs, init.signal)
      }
    }
  }
}

async function pause (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** A NodeCall that says, through `say`, when the node stops answering and when it is back. */
export function waitingForNodeSaying (say: (line: string) => void, signal?: AbortSignal): NodeCall {
  return waitingForNode({
    signal,
    onAway: ms => say(
      `the node stopped answering; waiting up to ${Math.round(ms / 60_000)} min for it to come back (its jobs go on where they were)`
    ),
    onBack: () => say('the node answers again')
  })
}
