import { describe, expect, it } from 'vitest'
import { createSchedule, inWindow, parseSchedule, parseScheduleEntry, ScheduleError } from './schedule.js'
import { createWallClock } from './wall-clock.js'

const MON = 1
const FRI = 5
const SAT = 6
const SUN = 0
const at = (h: number, m = 0): number => h * 60 + m

describe('schedule entries', () => {
  it('parses day ranges, lists, wrap-around ranges, daily and all', () => {
    expect([...parseScheduleEntry('mon-fri 22:00-07:00')[0]!.days].sort()).toEqual([1, 2, 3, 4, 5])
    expect(parseScheduleEntry('Sat,Sun all')).toEqual([{ days: new Set([SAT, SUN]), start: 0, end: 1440 }])
    expect([...parseScheduleEntry('fri-mon 09:00-17:00')[0]!.days].sort()).toEqual([0, 1, 5, 6])
    expect(parseScheduleEntry('daily 12:00-13:30,18:00-24:00').map(w => [w.start, w.end])).toEqual([
      [720, 810],
      [1080, 1440]
    ])
  })

  it('refuses what it cannot read, naming the entry', () => {
    for (const bad of [
      'mon-fri',
      'funday 10:00-11:00',
      'mon 25:00-26:00',
      'mon 10:00-10:00',
      'mon 10:60-11:00',
      'mon-tue-wed all',
      'mon 10:00',
      'mon 24:00-01:00'
    ]) {
      expect(() => parseScheduleEntry(bad), bad).toThrow(ScheduleError)
    }
    expect(() => parseSchedule(Array.from({ length: 40 }, () => 'mon all'))).toThrow(ScheduleError)
  })
})

describe('inWindow', () => {
  const overnight = parseSchedule(['mon-fri 22:00-07:00'])
  it('runs an overnight window past midnight into the next day', () => {
    expect(inWindow(overnight, MON, at(21, 59))).toBe(false)
    expect(inWindow(overnight, MON, at(22))).toBe(true)
    expect(inWindow(overnight, 2, at(6, 59))).toBe(true)
    expect(inWindow(overnight, 2, at(7))).toBe(false)
    // Friday night runs into Saturday morning; Sunday night is not in the list, so Monday morning is closed.
    expect(inWindow(overnight, SAT, at(3))).toBe(true)
    expect(inWindow(overnight, SAT, at(23))).toBe(false)
    expect(inWindow(overnight, MON, at(3))).toBe(false)
  })

  it('combines per-weekday entries, and all covers the whole day', () => {
    const windows = parseSchedule(['mon-fri 22:00-07:00', 'sat-sun all'])
    expect(inWindow(windows, SUN, 0)).toBe(true)
    expect(inWindow(windows, SUN, at(23, 59))).toBe(true)
    expect(inWindow(windows, SAT, at(12))).toBe(true)
    // Sunday's `all` ends at midnight, and no entry starts on Sunday night: Monday morning is closed.
    expect(inWindow(windows, MON, at(6))).toBe(false)
    expect(inWindow(windows, FRI, at(12))).toBe(false)
  })
})

describe('createSchedule in a real time zone', () => {
  const berlin = createWallClock('Europe/Berlin')
  const utc = (iso: string): number => Date.parse(iso)

  it('has no state without windows (always open)', () => {
    expect(createSchedule([], berlin).state(Date.now())).toBeNull()
  })

  it('says whether a window is open and when that changes, in local time', () => {
    const schedule = createSchedule(parseSchedule(['mon-fri 22:00-07:00']), berlin)
    // Wednesday 2026-12-02 12:00 in Berlin (CET, UTC+1) is 11:00 UTC: closed until 22:00 local.
    expect(schedule.state(utc('2026-12-02T11:00:00Z'))).toEqual({ open: false, next: utc('2026-12-02T21:00:00Z') })
    // Friday 23:00 local: open until Saturday 07:00 local.
    expect(schedule.state(utc('2026-12-04T22:00:00Z'))).toEqual({ open: true, next: utc('2026-12-05T06:00:00Z') })
    // Saturday noon: closed over the weekend until Monday 22:00.
    expect(schedule.state(utc('2026-12-05T11:00:00Z'))).toEqual({ open: false, next: utc('2026-12-07T21:00:00Z') })
  })

  it('never changes when every hour is in a window', () => {
    expect(createSchedule(parseSchedule(['daily all']), berlin).state(utc('2026-12-02T11:00:00Z'))).toEqual({
      open: true,
      next: null
    })
  })

  it('follows the wall clock over the spring DST change (the 02:00-03:00 hour does not exist)', () => {
    // 2027-03-28: Berlin goes from 02:00 CET to 03:00 CEST at 01:00 UTC.
    const night = createSchedule(parseSchedule(['sun 02:30-06:00']), berlin)
    // Saturday 23:00 CET: the window's start does not exist that night; it opens when the clock jumps past it.
    expect(night.state(utc('2027-03-27T22:00:00Z'))).toEqual({ open: false, next: utc('2027-03-28T01:00:00Z') })
    // It closes at 06:00 CEST, 04:00 UTC: four wall-clock hours after 02:00, three real ones.
    expect(night.state(utc('2027-03-28T01:30:00Z'))).toEqual({ open: true, next: utc('2027-03-28T04:00:00Z') })
  })

  it('follows the wall clock over the autumn DST change (the 02:00-03:00 hour happens twice)', () => {
    // 2027-10-31: Berlin goes from 03:00 CEST back to 02:00 CET at 01:00 UTC.
    const evening = createSchedule(parseSchedule(['sat 22:00-04:00']), berlin)
    // Saturday 21:00 CEST (19:00 UTC): opens at 22:00 CEST (20:00 UTC), closes at 04:00 CET (03:00 UTC): a night of 7
    // real hours.
    expect(evening.state(utc('2027-10-30T19:00:00Z'))).toEqual({ open: false, next: utc('2027-10-30T20:00:00Z') })
    expect(evening.state(utc('2027-10-30T20:00:00Z'))).toEqual({ open: true, next: utc('2027-10-31T03:00:00Z') })
  })
})
