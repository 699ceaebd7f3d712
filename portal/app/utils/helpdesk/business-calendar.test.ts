import { describe, expect, it } from 'vitest'
import {
  BusinessCalendar,
  addBusinessMinutes,
  businessCalendarOf,
  businessHoursSpecSchema,
  businessMinutesBetween,
  isOpen,
  nextOpening,
  parseBusinessHours,
  type BusinessCalendarConfigInput,
} from './business-calendar'

const officeHours = parseBusinessHours('mon-fri 09:00-17:00')
const amsterdam = businessCalendarOf({ timeZone: 'Europe/Amsterdam', hours: officeHours, closedDates: [], publicHolidays: 'nl' })
const allHours = (timeZone: string) => businessCalendarOf({ timeZone, hours: parseBusinessHours('mon-sun 00:00-24:00'), publicHolidays: 'none' })

/** An instant written with its UTC offset, as a clock on the wall in that place shows it. */
const at = (iso: string) => new Date(iso)

// Deterministic, so a failing sample can be replayed.
function mulberry32(seed: number) {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

describe('parseBusinessHours', () => {
  it('reads one range of days', () => {
    expect(parseBusinessHours('mon-fri 09:00-17:00')).toEqual({
      1: { start: '09:00', end: '17:00' },
      2: { start: '09:00', end: '17:00' },
      3: { start: '09:00', end: '17:00' },
      4: { start: '09:00', end: '17:00' },
      5: { start: '09:00', end: '17:00' },
    })
  })

  it('reads several parts, day lists, loose spacing and capitals', () => {
    expect(parseBusinessHours(' Mon-Thu 8:30 - 17:00 ;fri 08:30-12:00; sat, sun 10:00-14:00; ')).toEqual({
      1: { start: '08:30', end: '17:00' },
      2: { start: '08:30', end: '17:00' },
      3: { start: '08:30', end: '17:00' },
      4: { start: '08:30', end: '17:00' },
      5: { start: '08:30', end: '12:00' },
      6: { start: '10:00', end: '14:00' },
      7: { start: '10:00', end: '14:00' },
    })
  })

  it('takes 24:00 as closing at midnight', () => {
    expect(parseBusinessHours('sun 00:00-24:00')).toEqual({ 7: { start: '00:00', end: '24:00' } })
  })

  it('says exactly what is wrong and shows a valid example', () => {
    expect(() => parseBusinessHours('mon-fri 9-17')).toThrow(
      new Error(
        'Business hours "mon-fri 9-17" are not valid: "9" in "mon-fri 9-17" is not an opening time (use HH:MM, 00:00 to 23:59). ' +
          'Write for example "mon-fri 09:00-17:00" or "mon-thu 08:30-17:00; fri 08:30-12:00".',
      ),
    )
  })

  it.each([
    ['', 'no days are given'],
    [' ; ', 'no days are given'],
    ['mon-fri', '"mon-fri" should be days followed by a time range'],
    ['09:00-17:00', '"09:00-17:00" should be days followed by a time range'],
    ['mon-fri 17:00-09:00', 'in "mon-fri 17:00-09:00" the desk would close at or before it opens'],
    ['mon 09:00-09:00', 'close at or before it opens'],
    ['mon-fri 09:00-25:00', '"25:00" in "mon-fri 09:00-25:00" is not a closing time'],
    ['mon-fri 09:60-17:00', '"09:60" in "mon-fri 09:60-17:00" is not an opening time'],
    ['mon 24:00-24:00', '"24:00" in "mon 24:00-24:00" is not an opening time'],
    ['fri-mon 09:00-17:00', '"fri-mon" runs backwards'],
    ['maandag 09:00-17:00', '"maandag" in "maandag 09:00-17:00" is not a day or a range of days (days are mon, tue, wed, thu, fri, sat, sun)'],
    ['mon-tue-wed 09:00-17:00', '"mon-tue-wed" in "mon-tue-wed 09:00-17:00" is not a day'],
    ['mon-fri 09:00-17:00; fri 10:00-12:00', 'fri is given more than once'],
  ])('refuses %j: %s', (spec, problem) => {
    let message = ''
    try {
      parseBusinessHours(spec)
    } catch (error) {
      message = error instanceof Error ? error.message : ''
    }
    expect(message).toContain(problem)
    expect(message).toContain(`Business hours "${spec}" are not valid`)
    expect(message).toContain('Write for example "mon-fri 09:00-17:00"')
  })

  it('serves as a zod schema for an environment variable', () => {
    expect(businessHoursSpecSchema.parse('sat 10:00-12:00')).toEqual({ 6: { start: '10:00', end: '12:00' } })
    const result = businessHoursSpecSchema.safeParse('sat 12:00-10:00')
    expect(result.success).toBe(false)
    expect(result.error?.issues[0]?.message).toMatch(/^Business hours "sat 12:00-10:00" are not valid: in "sat 12:00-10:00" the desk would close/)
  })
})

describe('calendar configuration', () => {
  const valid: BusinessCalendarConfigInput = { timeZone: 'Europe/Amsterdam', hours: officeHours, closedDates: [], publicHolidays: 'nl' }

  it('fills in the defaults', () => {
    const calendar = new BusinessCalendar({ hours: officeHours })
    expect(calendar.config).toEqual({ timeZone: 'Europe/Amsterdam', hours: officeHours, closedDates: [], publicHolidays: 'nl', liberationDay: 'lustrum' })
  })

  it('refuses a calendar that is never open, at construction', () => {
    expect(() => new BusinessCalendar({ ...valid, hours: {} })).toThrow(/the desk is never open; give opening hours for at least one weekday/)
    // Also when used through a plain config, before any search starts.
    expect(() => addBusinessMinutes({ ...valid, hours: {} }, at('2025-06-13T10:00:00+02:00'), 60)).toThrow(/never open/)
  })

  it.each<[string, BusinessCalendarConfigInput, RegExp]>([
    ['an unknown time zone', { ...valid, timeZone: 'Europe/Amsterdm' }, /"Europe\/Amsterdm" is not an IANA time zone/],
    ['a closed date that does not exist', { ...valid, closedDates: ['2025-02-30'] }, /"2025-02-30" is not a date in the form YYYY-MM-DD/],
    ['hours that close before they open', { ...valid, hours: { 1: { start: '17:00', end: '09:00' } } }, /must open before it closes/],
    ['a time without two-digit hours', { ...valid, hours: { 1: { start: '9:00', end: '17:00' } } }, /"9:00" is not a time of day/],
    ['24:00 as opening time', { ...valid, hours: { 1: { start: '24:00', end: '24:00' } } }, /must open before it closes/],
    ['an unknown holiday set', { ...valid, publicHolidays: 'be' as 'nl' }, /publicHolidays/],
  ])('refuses %s, naming it', (_, config, message) => {
    expect(() => new BusinessCalendar(config)).toThrow(message)
    expect(() => new BusinessCalendar(config)).toThrow(/^Business calendar is not valid:/)
  })

  it('refuses a weekday number that does not exist', () => {
    const config = { ...valid, hours: { ...officeHours, 8: { start: '09:00', end: '17:00' } } }
    expect(() => new BusinessCalendar(config)).toThrow(/Unrecognized key: "8"/)
  })

  it('builds a configuration once, however often it is passed', () => {
    expect(businessCalendarOf({ ...valid })).toBe(businessCalendarOf({ ...valid }))
    expect(businessCalendarOf(amsterdam)).toBe(amsterdam)
    expect(businessCalendarOf({ ...valid, closedDates: ['2025-12-29'] })).not.toBe(businessCalendarOf(valid))
  })
})

describe('addBusinessMinutes', () => {
  it('carries Friday 16:30 + 60 minutes over the weekend to Monday 09:30', () => {
    expect(addBusinessMinutes(amsterdam, at('2025-06-13T16:30:00+02:00'), 60)).toEqual(at('2025-06-16T09:30:00+02:00'))
  })

  it('gives the earliest moment: Friday 16:00 + 60 minutes is Friday 17:00, not Monday', () => {
    expect(addBusinessMinutes(amsterdam, at('2025-06-13T16:00:00+02:00'), 60)).toEqual(at('2025-06-13T17:00:00+02:00'))
  })

  it('starts counting a ticket opened on a Saturday at the Monday opening', () => {
    const saturday = at('2025-06-14T11:00:00+02:00')
    expect(addBusinessMinutes(amsterdam, saturday, 60)).toEqual(at('2025-06-16T10:00:00+02:00'))
    expect(addBusinessMinutes(amsterdam, at('2025-06-16T07:15:00+02:00'), 60)).toEqual(at('2025-06-16T10:00:00+02:00'))
  })

  it('returns the moment itself for zero minutes, even outside hours', () => {
    const saturday = at('2025-06-14T11:00:00+02:00')
    expect(addBusinessMinutes(amsterdam, saturday, 0)).toEqual(saturday)
  })

  it('counts whole days and weeks', () => {
    expect(addBusinessMinutes(amsterdam, at('2025-06-16T09:00:00+02:00'), 480)).toEqual(at('2025-06-16T17:00:00+02:00'))
    expect(addBusinessMinutes(amsterdam, at('2025-06-16T09:00:00+02:00'), 481)).toEqual(at('2025-06-17T09:01:00+02:00'))
    expect(addBusinessMinutes(amsterdam, at('2025-06-16T09:00:00+02:00'), 2400)).toEqual(at('2025-06-20T17:00:00+02:00'))
    expect(addBusinessMinutes(amsterdam, at('2025-06-16T10:00:00+02:00'), 2400)).toEqual(at('2025-06-23T10:00:00+02:00'))
  })

  it('keeps an opening hour sixty real minutes across the spring DST change (last Sunday of March)', () => {
    // Friday before in CET (+01:00), Monday after in CEST (+02:00).
    expect(addBusinessMinutes(amsterdam, at('2025-03-28T16:30:00+01:00'), 60)).toEqual(at('2025-03-31T09:30:00+02:00'))
    expect(addBusinessMinutes(amsterdam, at('2025-03-28T16:30:00+01:00'), 60).toISOString()).toBe('2025-03-31T07:30:00.000Z')
  })

  it('and across the autumn DST change (last Sunday of October)', () => {
    expect(addBusinessMinutes(amsterdam, at('2025-10-24T16:30:00+02:00'), 60)).toEqual(at('2025-10-27T09:30:00+01:00'))
    expect(addBusinessMinutes(amsterdam, at('2025-10-24T16:30:00+02:00'), 60).toISOString()).toBe('2025-10-27T08:30:00.000Z')
  })

  it('counts real minutes through the night the clocks change, for a desk that never closes', () => {
    const always = allHours('Europe/Amsterdam')
    expect(addBusinessMinutes(always, at('2025-03-30T01:30:00+01:00'), 60)).toEqual(at('2025-03-30T03:30:00+02:00'))
    expect(addBusinessMinutes(always, at('2025-10-26T02:30:00+02:00'), 60)).toEqual(at('2025-10-26T02:30:00+01:00'))
  })

  it('skips Christmas and the weekend after it', () => {
    // Wednesday 24 December has one hour left; Thursday and Friday are Kerstdagen.
    expect(addBusinessMinutes(amsterdam, at('2025-12-24T16:00:00+01:00'), 120)).toEqual(at('2025-12-29T10:00:00+01:00'))
  })

  it('skips extra closed dates and Nieuwjaarsdag', () => {
    const closedBetween = businessCalendarOf({ hours: officeHours, closedDates: ['2025-12-29', '2025-12-30', '2025-12-31'] })
    expect(addBusinessMinutes(closedBetween, at('2025-12-24T16:00:00+01:00'), 120)).toEqual(at('2026-01-02T10:00:00+01:00'))
  })

  it('skips Koningsdag on a Monday', () => {
    expect(addBusinessMinutes(amsterdam, at('2026-04-24T16:00:00+02:00'), 120)).toEqual(at('2026-04-28T10:00:00+02:00'))
  })

  it('closes on Bevrijdingsdag as configured', () => {
    const from = at('2026-05-04T16:00:00+02:00')
    expect(addBusinessMinutes(amsterdam, from, 120)).toEqual(at('2026-05-05T10:00:00+02:00'))
    const always = businessCalendarOf({ hours: officeHours, liberationDay: 'always' })
    expect(addBusinessMinutes(always, from, 120)).toEqual(at('2026-05-06T10:00:00+02:00'))
    // 2025 is a lustrum year: 5 May (a Monday) is closed by default.
    expect(addBusinessMinutes(amsterdam, at('2025-05-02T16:00:00+02:00'), 120)).toEqual(at('2025-05-06T10:00:00+02:00'))
  })

  it('ignores holidays when told to', () => {
    const noHolidays = businessCalendarOf({ hours: officeHours, publicHolidays: 'none' })
    expect(addBusinessMinutes(noHolidays, at('2025-12-24T16:00:00+01:00'), 120)).toEqual(at('2025-12-25T10:00:00+01:00'))
  })

  it('works in other time zones and their own DST dates', () => {
    const newYork = businessCalendarOf({ timeZone: 'America/New_York', hours: officeHours, publicHolidays: 'none' })
    // The US changes on the second Sunday of March.
    expect(addBusinessMinutes(newYork, at('2025-03-07T16:30:00-05:00'), 60)).toEqual(at('2025-03-10T09:30:00-04:00'))
    const kolkata = businessCalendarOf({ timeZone: 'Asia/Kolkata', hours: officeHours, publicHolidays: 'none' })
    expect(addBusinessMinutes(kolkata, at('2025-06-13T16:30:00+05:30'), 60)).toEqual(at('2025-06-16T09:30:00+05:30'))
  })

  it('finds an opening after a long closure', () => {
    const mondays2026 = Array.from({ length: 52 }, (_, week) => new Date(Date.UTC(2026, 0, 5 + 7 * week)).toISOString().slice(0, 10))
    const mondaysOnly = businessCalendarOf({ hours: parseBusinessHours('mon 09:00-17:00'), closedDates: mondays2026, publicHolidays: 'none' })
    expect(addBusinessMinutes(mondaysOnly, at('2025-12-30T10:00:00+01:00'), 30)).toEqual(at('2027-01-04T09:30:00+01:00'))
  })

  it('refuses amounts and moments it cannot count', () => {
    const from = at('2025-06-13T10:00:00+02:00')
    expect(() => addBusinessMinutes(amsterdam, from, -1)).toThrow(RangeError)
    expect(() => addBusinessMinutes(amsterdam, from, Number.NaN)).toThrow(/Business minutes must be between 0 and/)
    expect(() => addBusinessMinutes(amsterdam, from, Number.POSITIVE_INFINITY)).toThrow(RangeError)
    expect(() => addBusinessMinutes(amsterdam, from, 1e12)).toThrow(RangeError)
    expect(() => addBusinessMinutes(amsterdam, new Date(Number.NaN), 1)).toThrow(/from is an invalid Date/)
  })

  it('computes 100k due dates well within a second', () => {
    const random = mulberry32(7)
    const start = Date.parse('2025-01-01T00:00:00Z')
    const year = 365 * 86_400_000
    const targets = [60, 240, 480, 1440, 2400, 4800]
    // Warm up the time zone tables the way a running server would have them.
    addBusinessMinutes(amsterdam, new Date(start), 1)
    const began = performance.now()
    let last = 0
    for (let i = 0; i < 100_000; i++) {
      last = addBusinessMinutes(amsterdam, new Date(start + random() * year), targets[i % targets.length] ?? 60).getTime()
    }
    const elapsed = performance.now() - began
    expect(last).toBeGreaterThan(start)
    expect(elapsed).toBeLessThan(1000)
  })
})

describe('businessMinutesBetween', () => {
  it('is 0 when the end is not after the start', () => {
    const moment = at('2025-06-13T10:00:00+02:00')
    expect(businessMinutesBetween(amsterdam, moment, moment)).toBe(0)
    expect(businessMinutesBetween(amsterdam, moment, at('2025-06-13T09:00:00+02:00'))).toBe(0)
  })

  it('counts only open time', () => {
    expect(businessMinutesBetween(amsterdam, at('2025-06-13T10:00:00+02:00'), at('2025-06-13T10:45:00+02:00'))).toBe(45)
    expect(businessMinutesBetween(amsterdam, at('2025-06-13T16:30:00+02:00'), at('2025-06-16T09:30:00+02:00'))).toBe(60)
    expect(businessMinutesBetween(amsterdam, at('2025-06-14T08:00:00+02:00'), at('2025-06-15T20:00:00+02:00'))).toBe(0)
    expect(businessMinutesBetween(amsterdam, at('2025-06-13T10:00:00+02:00'), at('2025-06-13T10:00:30+02:00'))).toBe(0.5)
  })

  it('counts a week with a DST change as five eight-hour days', () => {
    expect(businessMinutesBetween(amsterdam, at('2025-03-28T09:00:00+01:00'), at('2025-03-31T17:00:00+02:00'))).toBe(960)
    expect(businessMinutesBetween(amsterdam, at('2025-10-20T00:00:00+02:00'), at('2025-10-27T00:00:00+01:00'))).toBe(2400)
  })

  it('counts the short and the long day of a desk that never closes', () => {
    const always = allHours('Europe/Amsterdam')
    expect(businessMinutesBetween(always, at('2025-03-30T00:00:00+01:00'), at('2025-03-31T00:00:00+02:00'))).toBe(23 * 60)
    expect(businessMinutesBetween(always, at('2025-10-26T00:00:00+02:00'), at('2025-10-27T00:00:00+01:00'))).toBe(25 * 60)
    // Lord Howe Island puts its clocks back half an hour on the first Sunday of April.
    const lordHowe = allHours('Australia/Lord_Howe')
    expect(businessMinutesBetween(lordHowe, at('2025-04-06T00:00:00+11:00'), at('2025-04-07T00:00:00+10:30'))).toBe(24.5 * 60)
  })

  it('leaves out Christmas and Koningsdag', () => {
    expect(businessMinutesBetween(amsterdam, at('2025-12-24T09:00:00+01:00'), at('2025-12-29T17:00:00+01:00'))).toBe(960)
    expect(businessMinutesBetween(amsterdam, at('2026-04-24T09:00:00+02:00'), at('2026-04-28T17:00:00+02:00'))).toBe(960)
  })

  it('inverts addBusinessMinutes on random samples', () => {
    const random = mulberry32(20_250_401)
    const calendars = [amsterdam, businessCalendarOf({ hours: parseBusinessHours('mon-thu 08:30-17:00; fri 08:30-12:00; sun 02:00-03:00') }), allHours('Europe/Amsterdam')]
    const start = Date.parse('2024-01-01T00:00:00Z')
    const span = 4 * 365 * 86_400_000
    for (let i = 0; i < 3000; i++) {
      const calendar = calendars[i % calendars.length] ?? amsterdam
      const from = new Date(start + Math.floor(random() * span))
      const minutes = Math.floor(random() * 10_000)
      const due = addBusinessMinutes(calendar, from, minutes)
      expect(businessMinutesBetween(calendar, from, due), `${from.toISOString()} + ${minutes}`).toBe(minutes)
      if (minutes > 0) expect(isOpen(calendar, new Date(due.getTime() - 1)), `${from.toISOString()} + ${minutes}`).toBe(true)

      // The other way round: the minutes between two moments lead back to the second, or to the closing before it.
      const to = new Date(from.getTime() + Math.floor(random() * 30 * 86_400_000))
      const back = addBusinessMinutes(calendar, from, businessMinutesBetween(calendar, from, to))
      expect(back.getTime()).toBeLessThanOrEqual(to.getTime())
      if (isOpen(calendar, to) && businessMinutesBetween(calendar, from, to) > 0) expect(back).toEqual(to)
    }
  })
})

describe('isOpen and nextOpening', () => {
  it('opens at the opening time and closes at the closing time, in local time after a DST change', () => {
    expect(isOpen(amsterdam, at('2025-03-31T08:59:59+02:00'))).toBe(false)
    expect(isOpen(amsterdam, at('2025-03-31T09:00:00+02:00'))).toBe(true)
    expect(isOpen(amsterdam, at('2025-03-31T16:59:59+02:00'))).toBe(true)
    expect(isOpen(amsterdam, at('2025-03-31T17:00:00+02:00'))).toBe(false)
    expect(isOpen(amsterdam, at('2025-03-28T09:00:00+01:00'))).toBe(true)
    expect(isOpen(amsterdam, at('2025-03-28T08:30:00+01:00'))).toBe(false)
  })

  it('is closed at weekends and on holidays', () => {
    expect(isOpen(amsterdam, at('2025-06-14T11:00:00+02:00'))).toBe(false)
    expect(isOpen(amsterdam, at('2025-12-25T11:00:00+01:00'))).toBe(false)
    expect(isOpen(amsterdam, at('2026-04-27T11:00:00+02:00'))).toBe(false)
    expect(isOpen(amsterdam, at('2026-04-28T11:00:00+02:00'))).toBe(true)
  })

  it('gives the moment itself while open and the next opening otherwise', () => {
    expect(nextOpening(amsterdam, at('2025-06-13T10:00:00+02:00'))).toEqual(at('2025-06-13T10:00:00+02:00'))
    expect(nextOpening(amsterdam, at('2025-06-13T09:00:00+02:00'))).toEqual(at('2025-06-13T09:00:00+02:00'))
    expect(nextOpening(amsterdam, at('2025-06-13T17:00:00+02:00'))).toEqual(at('2025-06-16T09:00:00+02:00'))
    expect(nextOpening(amsterdam, at('2025-06-14T11:00:00+02:00'))).toEqual(at('2025-06-16T09:00:00+02:00'))
    expect(nextOpening(amsterdam, at('2025-12-24T17:30:00+01:00'))).toEqual(at('2025-12-29T09:00:00+01:00'))
  })

  it('handles opening hours that fall in the hour the clocks skip or repeat', () => {
    const nightShift = businessCalendarOf({ hours: parseBusinessHours('sun 02:00-03:00'), publicHolidays: 'none' })
    // 30 March 2025 has no 02:00-03:00, so the desk does not open that night.
    expect(nextOpening(nightShift, at('2025-03-29T12:00:00+01:00'))).toEqual(at('2025-04-06T02:00:00+02:00'))
    expect(businessMinutesBetween(nightShift, at('2025-03-29T00:00:00+01:00'), at('2025-03-31T00:00:00+02:00'))).toBe(0)
    // 26 October 2025 goes through 02:00-03:00 twice: two real hours.
    expect(businessMinutesBetween(nightShift, at('2025-10-25T00:00:00+02:00'), at('2025-10-27T00:00:00+01:00'))).toBe(120)
    expect(nextOpening(nightShift, at('2025-10-25T12:00:00+02:00'))).toEqual(at('2025-10-26T02:00:00+02:00'))
  })
})
