import { ErrorCodes, FfmeshError, type NodeControlState, type ScheduleState } from '@ffmesh/protocol'
import type { EventBus } from '../../events.js'
import type { Logger } from '../../logger.js'
import type { Sub } from '../../store/job-store.js'
import type { Schedule } from './schedule.js'

/** How often the schedule is looked at; its answer is cached until the next window change. */
export const SCHEDULE_CHECK_MS = 1_000
/** The key of the pause in the store's `control` area. */
const PAUSE_KEY = 'pause'

/** `from`: the peer that paused this node over the mesh, or null for a pause made here. */
interface PersistedPause { drain: boolean, at: number, from: string | null }

export interface ControlChange {
  /**
   * Units to give back to their owners: `all` that have not finished converting (a pause without
   * --drain), `waiting` ones only (not converting yet: a drain or a closing window lets the
   * converting ones finish and frees the rest for other workers at once), or `none`.
   */
  giveBack: 'none' | 'waiting' | 'all'
}

/**
 * Whether this node's worker takes new units: a person's pause (`ffmesh pause`, kept in the store
 * so it survives a restart) and the schedule's windows. Only the worker is paused: the node still
 * owns, plans and assembles its own jobs, serves blobs and answers status.
 *
 * Drain and the end of a window are the same to running units: those converting finish, those
 * not started yet go back. A pause without --drain stops them all; the worker gives them back to
 * their owners as a refusal that costs no try.
 */
export interface NodeControl {
  start(options?: { signal?: AbortSignal }): Promise<void>
  stop(): Promise<void>
  acceptsWork(): boolean
  /** The state, given how many units the worker runs now. */
  describe(running: number): NodeControlState
  schedule(): ScheduleState | null
  /** `from`: the peer asking (remote control); absent for a person at this node. */
  pause(request: { drain?: boolean, from?: string }, options?: { signal?: AbortSignal }): Promise<void>
  /** A peer may not undo a pause made at this node: REMOTE_CONTROL_REFUSED. */
  resume(request?: { from?: string }, options?: { signal?: AbortSignal }): Promise<void>
  onChange(listener: (change: ControlChange) => void): () => void
}

export function createNodeControl (
  c: { db: Sub<unknown>; events: EventBus; logger: Logger; clock: () => number },
  init: { schedule: Schedule }
): NodeControl {
  const log = c.logger.child({ component: 'control' })
  const listeners = new Set<(change: ControlChange) => void>()
  let pause: PersistedPause | null = null
  let windowOpen = true
  let timer: NodeJS.Timeout | undefined

  const notify = (change: ControlChange): void => {
    for (const listener of listeners) {
      try {
        listener(change)
      } catch (err) {
        log.error({ err }, 'control change listener threw')
      }
    }
  }

  /** Emits node:paused / node:resumed when the schedule's window opens or closes. */
  const checkSchedule = (): void => {
    const state = init.schedule.state(c.clock())
    const open = state?.open ?? true
    if (open === windowOpen) return
    windowOpen = open
    log.info(
      { open, next: state?.next },
      open ? 'schedule window opened' : 'schedule window closed: taking no new units'
    )
    if (pause == null) {
      c.events.emit(open ? 'node:resumed' : 'node:paused', { data: { by: 'schedule', next: state?.next ?? null } })
    }
    notify({ giveBack: open ? 'none' : 'waiting' })
  }

  const control: NodeControl = {
    async start () {
      const saved = (await c.db.get(PAUSE_KEY)) as PersistedPause | undefined
      if (saved != null && typeof saved === 'object') {
        pause = {
          drain: saved.drain === true,
          at: Number(saved.at) || c.clock(),
          from: typeof saved.from === 'string' ? saved.from : null
        }
        log.info(
          { since: pause.at },
          'worker paused (since before the restart): taking no new units; `ffmesh resume` resumes'
        )
      }
      windowOpen = init.schedule.state(c.clock())?.open ?? true
      timer = setInterval(checkSchedule, SCHEDULE_CHECK_MS)
      timer.unref()
    },
    async stop () {
      clearInterval(timer)
    },
    acceptsWork: () => pause == null && windowOpen,
    schedule: () => init.schedule.state(c.clock()),
    describe (running) {
      const schedule = init.schedule.state(c.clock())
      const pausedBy =
        pause != null ? (pause.from == null ? 'user' : 'peer') : schedule?.open === false ? 'schedule' : null
      return {
        paused: pausedBy != null,
        draining: pausedBy != null && running > 0,
        schedule,
        pausedBy,
        pausedFrom: pause?.from ?? null,
        running
      }
    },
    async pause (request) {
      const drain = request.drain === true
      const wasPaused = pause != null
      // A pause without --drain after a drain stops what the drain let run; never the other way.
      // A pause made here stays this node's own (only a resume here undoes it), whoever pauses again.
      const from = pause == null ? (request.from ?? null) : pause.from == null ? null : (request.from ?? null)
      const next: PersistedPause = { drain: drain && (pause?.drain ?? true), at: pause?.at ?? c.clock(), from }
      await c.db.put(PAUSE_KEY, next)
      pause = next
      if (!wasPaused) c.events.emit('node:paused', { data: { by: from == null ? 'user' : 'peer', from, drain } })
      log.info(
        { drain, from },
        drain ? 'paused (drain): running units finish, no new ones' : 'paused: running units go back to their owners'
      )
      notify({ giveBack: next.drain ? 'waiting' : 'all' })
    },
    async resume (request = {}) {
      if (pause == null) return
      const from = request.from ?? null
      if (from != null && pause.from == null) {
        throw new FfmeshError(
          ErrorCodes.REMOTE_CONTROL_REFUSED,
          'this node was paused at the machine itself (ffmesh pause there); only ffmesh resume there resumes it'
        )
      }
      await c.db.del(PAUSE_KEY)
      pause = null
      c.events.emit('node:resumed', { data: { by: from == null ? 'user' : 'peer', from, scheduleOpen: windowOpen } })
      log.info({ scheduleOpen: windowOpen, from }, 'resumed')
      notify({ giveBack: 'none' })
    },
    onChange (listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    }
  }
  return control
}
