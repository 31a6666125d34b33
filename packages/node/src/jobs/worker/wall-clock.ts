/**
 * Local wall-clock time in a time zone, as plain numbers: a "wall" value is the local date and
 * time written as if it were UTC (so `new Date(wall).getUTCDay()` is the local weekday). Schedules
 * are written in local time, and DST days make the step from wall time to an instant uneven.
 */
export interface WallClock {
  /** The local date and time at instant `t`, as a wall value. */
  wall(t: number): number
  /**
   * An instant whose local time is `wall`. A wall time that occurs twice (the autumn hour) gives
   * one of the two; one that does not occur (the spring gap) gives an instant near the gap.
   */
  instant(wall: number): number
}

export const MINUTE_MS = 60_000
export const DAY_MS = 86_400_000

/** `timeZone` is an IANA name (`Europe/Berlin`); undefined is this machine's own zone. */
export function createWallClock (timeZone?: string): WallClock {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric'
  })
  const wall = (t: number): number => {
    const p: Record<string, number> = {}
    for (const part of format.formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value)
    return (
      Date.UTC(p.year as number, (p.month as number) - 1, p.day, p.hour, p.minute, p.second) +
      (((t % 1000) + 1000) % 1000)
    )
  }
  const offset = (t: number): number => wall(t) - t
  return {
    wall,
    instant (w) {
      // The offset at the guess is the offset at the answer, except across a DST change: a second
      // step corrects that.
      const first = w - offset(w)
      return w - offset(first)
    }
  }
}
