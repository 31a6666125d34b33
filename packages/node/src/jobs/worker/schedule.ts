import type { ScheduleState } from '@ffmesh/protocol'
import { DAY_MS, MINUTE_MS, type WallClock } from './wall-clock.js'

/**
 * `worker.schedule`: when this node's worker takes new units, as windows in local time, one per
 * entry: `mon-fri 22:00-07:00`, `sat,sun all`, `daily 12:00-13:30`. A window whose end is not
 * after its start runs past midnight into the next day, so `fri 22:00-07:00` covers Friday night
 * and Saturday morning. No schedule (an empty list) means always.
 */
export interface ScheduleWindow {
  /** Weekdays the window starts on, 0 = Sunday (as Date.getDay()). */
  days: ReadonlySet<number>
  /** Minutes after local midnight; `end` is 1440 for a window to the end of the day. */
  start: number
  end: number
}

/** Entries in worker.schedule: a week has few windows; the bound keeps the evaluation cheap. */
export const MAX_SCHEDULE_WINDOWS = 32
/** How far ahead the next change is looked for: past a week the same windows repeat. */
const LOOKAHEAD_DAYS = 8
/** The next change is found to the second (windows change on whole minutes). */
const CHANGE_PRECISION_MS = 1000

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]

export class ScheduleError extends Error {
  static override name = 'ScheduleError'
  override name = 'ScheduleError'
}

function dayIndex (name: string, entry: string): number {
  const i = DAY_NAMES.indexOf(name)
  if (i < 0) {
    throw new ScheduleError(`"${entry}": "${name}" is not a day (use mon, tue, wed, thu, fri, sat, sun, daily)`)
  }
  return i
}

function parseDays (spec: string, entry: string): Set<number> {
  const days = new Set<number>()
  for (const part of spec.split(',')) {
    if (part === 'daily' || part === '*') { ALL_DAYS.forEach(d => days.add(d)); continue }
    const [from, to, ...rest] = part.split('-')
    if (rest.length > 0 || from === '' || to === '') {
      throw new ScheduleError(`"${entry}": "${part}" is not a day or a range of days such as mon-fri`)
    }
    const a = dayIndex(from as string, entry)
    const b = to == null ? a : dayIndex(to, entry)
    // fri-mon wraps over the weekend.
    for (let d = a; ; d = (d + 1) % 7) { days.add(d); if (d === b) break }
  }
  return days
}

function parseTime (text: string, entry: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text)
  const minutes = m == null ? NaN : Number(m[1]) * 60 + Number(m[2])
  if (m == null || Number(m[2]) > 59 || minutes > 1440) {
    throw new ScheduleError(`"${entry}": "${text}" is not a time of day (HH:MM, 00:00 to 24:00)`)
  }
  return minutes
}

/** Parses one entry into its windows (one per time range); throws ScheduleError naming the problem. */
export function parseScheduleEntry (entry: string): ScheduleWindow[] {
  const words = entry.trim().toLowerCase().split(/\s+/)
  if (words.length !== 2) {
    throw new ScheduleError(`"${entry}": write days then times, such as "mon-fri 22:00-07:00" or "sat-sun all"`)
  }
  const days = parseDays(words[0] as string, entry)
  return (words[1] as string).split(',').map(range => {
    if (range === 'all') return { days, start: 0, end: 1440 }
    const [from, to, ...rest] = range.split('-')
    if (to == null || rest.length > 0) {
      throw new ScheduleError(`"${entry}": "${range}" is not a time range such as 22:00-07:00, or all`)
    }
    const start = parseTime(from as string, entry)
    const end = parseTime(to, entry)
    if (start === end || start === 1440) {
      throw new ScheduleError(`"${entry}": "${range}" is empty; for the whole day write all`)
    }
    return { days, start, end }
  })
}

export function parseSchedule (entries: readonly string[]): ScheduleWindow[] {
  if (entries.length > MAX_SCHEDULE_WINDOWS) throw new ScheduleError(`at most ${MAX_SCHEDULE_WINDOWS} schedule entries`)
  return entries.flatMap(parseScheduleEntry)
}

/** Whether local weekday `day` at `minute` after midnight falls in a window. */
export function inWindow (windows: readonly ScheduleWindow[], day: number, minute: number): boolean {
  const yesterday = (day + 6) % 7
  return windows.some(w => w.end > w.start
    ? w.days.has(day) && minute >= w.start && minute < w.end
    // Past midnight: the evening of its own day and the morning of the next.
    : (w.days.has(day) && minute >= w.start) || (w.days.has(yesterday) && minute < w.end))
}

export interface Schedule {
  /** Null when there is no schedule: always open. */
  state(now: number): ScheduleState | null
}

export function createSchedule (windows: readonly ScheduleWindow[], clock: WallClock): Schedule {
  const openAt = (t: number): boolean => {
    const w = clock.wall(t)
    return inWindow(windows, new Date(w).getUTCDay(), Math.floor((((w % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS))
  }

  /** The first instant after `now` at which openAt differs from `open`, or null within the look-ahead. */
  const nextChange = (now: number, open: boolean): number | null => {
    const today = Math.floor(clock.wall(now) / DAY_MS) * DAY_MS
    const boundaries = [...new Set(windows.flatMap(w => [w.start, w.end % 1440]))]
    const candidates: number[] = []
    for (let d = -1; d <= LOOKAHEAD_DAYS; d++) {
      for (const minute of boundaries) candidates.push(clock.instant(today + d * DAY_MS + minute * MINUTE_MS))
    }
    candidates.sort((a, b) => a - b)
    let same = now
    for (const c of candidates) {
      if (c <= now) continue
      if (openAt(c) === open) { same = c; continue }
      // The change lies in (same, c]; a DST jump can put it before the boundary's own instant.
      let lo = same
      let hi = c
      while (hi - lo > CHANGE_PRECISION_MS) {
        const mid = lo + Math.floor((hi - lo) / 2)
        if (openAt(mid) === open) lo = mid
        else hi = mid
      }
      // Windows open and close on whole minutes and clocks jump by whole seconds: the change is
      // the first whole second after `lo`.
      return (Math.floor(lo / CHANGE_PRECISION_MS) + 1) * CHANGE_PRECISION_MS
    }
    return null
  }

  let cached: { state: ScheduleState, from: number, until: number } | null = null
  return {
    state (now) {
      if (windows.length === 0) return null
      if (cached != null && now >= cached.from && now < cached.until) return cached.state
      const open = openAt(now)
      const next = nextChange(now, open)
      const state = { open, next }
      // Until the next change the answer is the same; without one, look again in a while.
      cached = { state, from: now, until: next ?? now + DAY_MS }
      return state
    }
  }
}
