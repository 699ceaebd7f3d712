/**
 * When the helpdesk is staffed: opening hours per weekday in one time zone,
 * minus public holidays and extra closed dates. SLA targets count business
 * minutes, which are real elapsed minutes while the desk is open; on a DST
 * morning an opening hour is still sixty minutes long.
 */
import { z } from 'zod'
import { dutchPublicHolidays, type LiberationDayRule } from './holidays-nl'

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7

export interface OpeningHours {
  /** 'HH:MM' */
  start: string
  /** 'HH:MM'; '24:00' means open until midnight. */
  end: string
}

/** A weekday that is missing is closed. */
export type WeeklyHours = Partial<Record<IsoWeekday, OpeningHours>>

export interface BusinessCalendarConfig {
  timeZone: string
  hours: WeeklyHours
  /** Extra closed days (YYYY-MM-DD), such as the day between Christmas and New Year. */
  closedDates: string[]
  publicHolidays: 'nl' | 'none'
  liberationDay?: LiberationDayRule
}

const MINUTE = 60_000
const DAY = 86_400_000
const WEEKDAYS: readonly IsoWeekday[] = [1, 2, 3, 4, 5, 6, 7]
const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const

// ---------------------------------------------------------------------------
// Business hours written as text, for an environment variable

const HOURS_EXAMPLE = '"mon-fri 09:00-17:00" or "mon-thu 08:30-17:00; fri 08:30-12:00"'
const CLOCK_TIME = /^(\d{1,2}):(\d{2})$/

/** Minutes after midnight of 'HH:MM', or null when it is not a time of day ('24:00' is one, as a closing time). */
function minutesOfDay(time: string): number | null {
  const match = CLOCK_TIME.exec(time)
  if (!match) return null
  const hours = Number(match[1])
  const minutes = Number(match[2])
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) return null
  return hours * 60 + minutes
}

function weekdayOfName(name: string): IsoWeekday | null {
  const index = DAY_NAMES.indexOf(name as (typeof DAY_NAMES)[number])
  return index === -1 ? null : WEEKDAYS[index] ?? null
}

/**
 * Reads opening hours such as "mon-fri 09:00-17:00" or
 * "mon-thu 08:30-17:00; fri 08:30-12:00; sat,sun 10:00-14:00".
 * Throws an Error that names the faulty part and shows a valid example.
 */
export function parseBusinessHours(spec: string): WeeklyHours {
  function refuse(problem: string): never {
    throw new Error(`Business hours "${spec}" are not valid: ${problem}. Write for example ${HOURS_EXAMPLE}.`)
  }
  const hours: WeeklyHours = {}
  const parts = spec
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '')
  if (parts.length === 0) refuse('no days are given')

  for (const part of parts) {
    const match = /^(.+?)\s+(\S+?)\s*-\s*(\S+)$/.exec(part)
    if (!match) refuse(`"${part}" should be days followed by a time range, like "mon-fri 09:00-17:00"`)
    const [, dayList = '', startText = '', endText = ''] = match
    const start = minutesOfDay(startText)
    const end = minutesOfDay(endText)
    if (start === null || start === 24 * 60) refuse(`"${startText}" in "${part}" is not an opening time (use HH:MM, 00:00 to 23:59)`)
    if (end === null) refuse(`"${endText}" in "${part}" is not a closing time (use HH:MM, up to 24:00)`)
    if (end <= start) refuse(`in "${part}" the desk would close at or before it opens`)

    for (const item of dayList.toLowerCase().replace(/\s+/g, '').split(',')) {
      const [firstName = '', lastName = firstName, ...rest] = item.split('-')
      const first = weekdayOfName(firstName)
      const last = weekdayOfName(lastName)
      if (rest.length > 0 || first === null || last === null) {
        refuse(`"${item}" in "${part}" is not a day or a range of days (days are ${DAY_NAMES.join(', ')})`)
      }
      if (last < first) {
        refuse(`"${item}" runs backwards; days go from mon to sun, so split it, e.g. "fri 09:00-17:00; mon 09:00-17:00"`)
      }
      for (const weekday of WEEKDAYS.slice(first - 1, last)) {
        if (hours[weekday]) refuse(`${DAY_NAMES[weekday - 1]} is given more than once`)
        hours[weekday] = { start: clockTimeOf(start), end: clockTimeOf(end) }
      }
    }
  }
  return hours
}

function clockTimeOf(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

// ---------------------------------------------------------------------------
// Validation

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
    return true
  } catch {
    return false
  }
}

function isIsoDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  if (!match) return false
  return dateOfDay(dayOfCivilDate(Number(match[1]), Number(match[2]), Number(match[3]))) === value
}

const clockTimeSchema = z.string().refine((time) => minutesOfDay(time) !== null && /^\d\d:\d\d$/.test(time), {
  error: (issue) => `"${String(issue.input)}" is not a time of day; write HH:MM, e.g. "09:00" (or "24:00" to close at midnight)`,
})

const openingHoursSchema = z
  .object({ start: clockTimeSchema, end: clockTimeSchema })
  .refine(({ start, end }) => (minutesOfDay(start) ?? 0) < (minutesOfDay(end) ?? 0), {
    error: 'the desk must open before it closes, e.g. { start: "09:00", end: "17:00" }',
  })

const weeklyHoursSchema = z
  .strictObject({
    1: openingHoursSchema.optional(),
    2: openingHoursSchema.optional(),
    3: openingHoursSchema.optional(),
    4: openingHoursSchema.optional(),
    5: openingHoursSchema.optional(),
    6: openingHoursSchema.optional(),
    7: openingHoursSchema.optional(),
  })
  .refine((hours) => Object.values(hours).some(Boolean), {
    // Without a single open hour no SLA due date could ever be reached.
    error: `the desk is never open; give opening hours for at least one weekday (1 = Monday … 7 = Sunday), e.g. parseBusinessHours(${HOURS_EXAMPLE})`,
  })

export const businessCalendarConfigSchema = z.object({
  timeZone: z
    .string()
    .default('Europe/Amsterdam')
    .refine(isTimeZone, { error: (issue) => `"${String(issue.input)}" is not an IANA time zone such as "Europe/Amsterdam"` }),
  hours: weeklyHoursSchema,
  closedDates: z
    .array(z.string().refine(isIsoDate, { error: (issue) => `"${String(issue.input)}" is not a date in the form YYYY-MM-DD` }))
    .default([]),
  publicHolidays: z.enum(['nl', 'none']).default('nl'),
  liberationDay: z.enum(['always', 'lustrum', 'never']).default('lustrum'),
}) satisfies z.ZodType<BusinessCalendarConfig, unknown>

export type BusinessCalendarConfigInput = z.input<typeof businessCalendarConfigSchema>

/** For an environment variable holding business hours as text; the error is parseBusinessHours's message. */
export const businessHoursSpecSchema = z.string().transform((spec, ctx): WeeklyHours => {
  try {
    return parseBusinessHours(spec)
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) })
    return z.NEVER
  }
})

// ---------------------------------------------------------------------------
// Civil dates as day numbers (days since 1970-01-01), which makes "the next
// day" plain arithmetic.

function dayOfCivilDate(year: number, month: number, day: number): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  return Math.floor(date.getTime() / DAY)
}

function dateOfDay(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10)
}

function weekdayOfDay(day: number): IsoWeekday {
  // 1970-01-01 was a Thursday.
  return ((((((day + 3) % 7) + 7) % 7) + 1) as IsoWeekday)
}

// ---------------------------------------------------------------------------
// Time zone offsets. Intl.DateTimeFormat is the only source, and it costs
// microseconds a call, so offsets are learnt per four-week stretch: sampled
// every six hours, with each change pinned to the second by bisection.

const STRETCH = 28 * DAY
const SAMPLE = 6 * 3_600_000

interface OffsetChange {
  /** UTC milliseconds from which `offset` applies. */
  from: number
  /** Milliseconds to add to UTC to get the wall clock. */
  offset: number
}

class ZoneOffsets {
  readonly #format: Intl.DateTimeFormat
  readonly #stretches = new Map<number, OffsetChange[]>()

  constructor(timeZone: string) {
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
  }

  #askIntl(instant: number): number {
    const second = Math.floor(instant / 1000) * 1000
    const parts: Record<string, string> = {}
    for (const { type, value } of this.#format.formatToParts(second)) parts[type] = value
    const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year)
    const wall = new Date(0)
    wall.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day))
    wall.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second))
    return wall.getTime() - second
  }

  #learn(stretch: number): OffsetChange[] {
    const start = stretch * STRETCH
    let before = this.#askIntl(start)
    const changes: OffsetChange[] = [{ from: start, offset: before }]
    for (let sample = start + SAMPLE; sample <= start + STRETCH; sample += SAMPLE) {
      const offset = this.#askIntl(sample)
      if (offset === before) continue
      let unchanged = sample - SAMPLE
      let changed = sample
      while (changed - unchanged > 1000) {
        const middle = unchanged + Math.floor((changed - unchanged) / 2000) * 1000
        if (this.#askIntl(middle) === before) unchanged = middle
        else changed = middle
      }
      changes.push({ from: changed, offset })
      before = offset
    }
    // A long-running process only ever needs the stretches around now.
    if (this.#stretches.size > 2000) this.#stretches.clear()
    this.#stretches.set(stretch, changes)
    return changes
  }

  offsetAt(instant: number): number {
    const stretch = Math.floor(instant / STRETCH)
    const changes = this.#stretches.get(stretch) ?? this.#learn(stretch)
    for (let i = changes.length - 1; i > 0; i--) {
      const change = changes[i]
      if (change && instant >= change.from) return change.offset
    }
    return changes[0]?.offset ?? 0
  }

  /**
   * The instant a wall-clock time (as UTC milliseconds) happens. Like
   * Temporal's 'compatible': a time the clocks skip (02:30 on the spring
   * morning) moves forward by the gap, a time that happens twice (02:30 on the
   * autumn morning) is the first of the two.
   */
  instantOfWallTime(wall: number): number {
    const offsetBefore = this.offsetAt(wall - DAY)
    const offsetAfter = this.offsetAt(wall + DAY)
    const early = wall - offsetBefore
    if (offsetBefore === offsetAfter) return early
    const late = wall - offsetAfter
    const earlyHappens = this.offsetAt(early) === offsetBefore
    const lateHappens = this.offsetAt(late) === offsetAfter
    if (earlyHappens && lateHappens) return Math.min(early, late)
    if (lateHappens) return late
    return early
  }
}

// Calendars of one desk in several configurations share what they learnt of its zone.
const zones = new Map<string, ZoneOffsets>()

function zoneOffsetsOf(timeZone: string): ZoneOffsets {
  let zone = zones.get(timeZone)
  if (!zone) {
    zone = new ZoneOffsets(timeZone)
    zones.set(timeZone, zone)
  }
  return zone
}

// ---------------------------------------------------------------------------
// The calendar

/** One day's opening, as UTC milliseconds; `close` is exclusive. */
export interface OpenWindow {
  open: number
  close: number
}

/**
 * A validated, ready-to-use calendar. Use it through addBusinessMinutes,
 * businessMinutesBetween, isOpen and nextOpening; it caches what it learns
 * about the time zone, so build one per configuration and keep it.
 */
export class BusinessCalendar {
  readonly config: BusinessCalendarConfig
  /** The most consecutive closed days there can be; past it a search is a bug, not a long weekend. */
  readonly longestClosure: number
  readonly #zone: ZoneOffsets
  readonly #hours: ({ start: number; end: number } | null)[]
  readonly #closedDays: Set<number>
  readonly #holidaysByYear = new Map<number, Set<number>>()
  readonly #windows = new Map<number, OpenWindow | null>()

  constructor(config: BusinessCalendarConfigInput) {
    const parsed = businessCalendarConfigSchema.safeParse(config)
    if (!parsed.success) throw new Error(`Business calendar is not valid:\n${z.prettifyError(parsed.error)}`)
    this.config = parsed.data
    this.#zone = zoneOffsetsOf(parsed.data.timeZone)
    const hours: WeeklyHours = parsed.data.hours
    this.#hours = WEEKDAYS.map((weekday) => {
      const opening = hours[weekday]
      return opening ? { start: minutesOfDay(opening.start) ?? 0, end: minutesOfDay(opening.end) ?? 0 } : null
    })
    this.#closedDays = new Set(
      parsed.data.closedDates.map((date) => dayOfCivilDate(Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10)))),
    )
    // Every open weekday recurs weekly, so a closure can only last as long as
    // holidays (at most 12 a year) and closed dates keep knocking out openings.
    this.longestClosure = 14 * (this.#closedDays.size + 16)
  }

  /** The local calendar day (days since 1970-01-01) an instant falls on. */
  dayOf(instant: number): number {
    return Math.floor((instant + this.#zone.offsetAt(instant)) / DAY)
  }

  /** When the desk is open on a local day, or null when it is closed all day. */
  windowOf(day: number): OpenWindow | null {
    const known = this.#windows.get(day)
    if (known !== undefined) return known
    const window = this.#computeWindow(day)
    if (this.#windows.size > 20_000) this.#windows.clear()
    this.#windows.set(day, window)
    return window
  }

  #computeWindow(day: number): OpenWindow | null {
    const hours = this.#hours[weekdayOfDay(day) - 1]
    if (!hours || this.#closedDays.has(day) || this.#isHoliday(day)) return null
    const open = this.#zone.instantOfWallTime(day * DAY + hours.start * MINUTE)
    const close = this.#zone.instantOfWallTime(day * DAY + hours.end * MINUTE)
    // Only hours that lie inside a skipped DST hour can end up empty.
    return close > open ? { open, close } : null
  }

  #isHoliday(day: number): boolean {
    if (this.config.publicHolidays === 'none') return false
    const year = new Date(day * DAY).getUTCFullYear()
    let holidays = this.#holidaysByYear.get(year)
    if (!holidays) {
      holidays = new Set(
        dutchPublicHolidays(year, { liberationDay: this.config.liberationDay ?? 'lustrum' }).map(({ date }) =>
          dayOfCivilDate(year, Number(date.slice(5, 7)), Number(date.slice(8, 10))),
        ),
      )
      this.#holidaysByYear.set(year, holidays)
    }
    return holidays.has(day)
  }
}

/** A built calendar, or a configuration to build one from. */
export type BusinessCalendarLike = BusinessCalendar | BusinessCalendarConfigInput

const builtCalendars = new Map<string, BusinessCalendar>()

/**
 * The calendar for a configuration, validated (throwing an Error that says
 * what is wrong). Callers may pass a fresh config object on every call, as
 * settings read from the environment do; building is memoised on the
 * config's content so the time zone is learnt once, not per due date.
 */
export function businessCalendarOf(calendar: BusinessCalendarLike): BusinessCalendar {
  if (calendar instanceof BusinessCalendar) return calendar
  const key = JSON.stringify(calendar)
  const known = builtCalendars.get(key)
  if (known) return known
  const built = new BusinessCalendar(calendar)
  if (builtCalendars.size >= 50) builtCalendars.clear()
  builtCalendars.set(key, built)
  return built
}

// ---------------------------------------------------------------------------
// Arithmetic

// A century of clock minutes. Larger amounts are a mistake upstream, and
// refusing them keeps every call quick.
const MOST_MINUTES = 100 * 366 * 24 * 60

function instantOf(date: Date, name: string): number {
  const instant = date.getTime()
  if (Number.isNaN(instant)) throw new RangeError(`${name} is an invalid Date`)
  return instant
}

function closureTooLong(calendar: BusinessCalendar, day: number): Error {
  return new Error(`The business calendar has no opening in the ${calendar.longestClosure} days after ${dateOfDay(day - calendar.longestClosure)}`)
}

/**
 * The moment at which `minutes` business minutes have passed since `from`.
 * Counting starts at the next opening when `from` is outside hours, and the
 * earliest such moment is returned, so 16:00 + 60 is 17:00 that day, not the
 * next opening. Zero minutes returns `from` itself, wherever it falls.
 */
export function addBusinessMinutes(source: BusinessCalendarLike, from: Date, minutes: number): Date {
  const calendar = businessCalendarOf(source)
  const start = instantOf(from, 'from')
  if (!Number.isFinite(minutes) || minutes < 0 || minutes > MOST_MINUTES) {
    throw new RangeError(`Business minutes must be between 0 and ${MOST_MINUTES}, not ${minutes}`)
  }
  let remaining = Math.round(minutes * MINUTE)
  if (remaining === 0) return new Date(start)
  let closedDays = 0
  for (let day = calendar.dayOf(start); ; day++) {
    const window = calendar.windowOf(day)
    if (window && window.close > start) {
      const begin = Math.max(start, window.open)
      const available = window.close - begin
      if (remaining <= available) return new Date(begin + remaining)
      remaining -= available
      closedDays = 0
    } else if (++closedDays > calendar.longestClosure) {
      throw closureTooLong(calendar, day)
    }
  }
}

/**
 * Business minutes between two moments; 0 when `to` is not after `from`.
 * Fractional when the moments are not on whole minutes.
 */
export function businessMinutesBetween(source: BusinessCalendarLike, from: Date, to: Date): number {
  const calendar = businessCalendarOf(source)
  const start = instantOf(from, 'from')
  const end = instantOf(to, 'to')
  if (end <= start) return 0
  let total = 0
  for (let day = calendar.dayOf(start), last = calendar.dayOf(end); day <= last; day++) {
    const window = calendar.windowOf(day)
    if (!window) continue
    const overlap = Math.min(window.close, end) - Math.max(window.open, start)
    if (overlap > 0) total += overlap
  }
  return total / MINUTE
}

/** Whether the desk is open at a moment (opening time included, closing time not). */
export function isOpen(source: BusinessCalendarLike, at: Date): boolean {
  const calendar = businessCalendarOf(source)
  const instant = instantOf(at, 'at')
  const window = calendar.windowOf(calendar.dayOf(instant))
  return window !== null && window.open <= instant && instant < window.close
}

/** The first moment at or after `at` when the desk is open: `at` itself while it is open. */
export function nextOpening(source: BusinessCalendarLike, at: Date): Date {
  const calendar = businessCalendarOf(source)
  const instant = instantOf(at, 'at')
  let closedDays = 0
  for (let day = calendar.dayOf(instant); ; day++) {
    const window = calendar.windowOf(day)
    if (window && window.close > instant) return new Date(Math.max(instant, window.open))
    if (++closedDays > calendar.longestClosure) throw closureTooLong(calendar, day)
  }
}
