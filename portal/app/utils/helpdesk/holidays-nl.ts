/**
 * Dutch public holidays, as the helpdesk's business calendar needs them.
 *
 * The rules are today's, applied to every year: a date before 2014 gets
 * Koningsdag rather than the Koninginnedag of that time. The helpdesk only
 * asks about the years around now.
 */

/**
 * Bevrijdingsdag is a national holiday, but most collective agreements give
 * the day off only once every five years, so each desk chooses.
 */
export type LiberationDayRule = 'always' | 'lustrum' | 'never'

export interface DutchHolidayOptions {
  /** Default 'lustrum': only in years divisible by 5. */
  liberationDay?: LiberationDayRule
}

export interface PublicHoliday {
  /** YYYY-MM-DD */
  date: string
  name: { nl: string; en: string }
}

// The anonymous Gregorian computus is defined for the Gregorian calendar
// (from 1583); the upper bound keeps dates in the four-digit YYYY-MM-DD form.
const FIRST_YEAR = 1583
const LAST_YEAR = 9999

function assertYear(year: number): void {
  if (!Number.isInteger(year) || year < FIRST_YEAR || year > LAST_YEAR) {
    throw new RangeError(`Dutch public holidays are known for the years ${FIRST_YEAR} to ${LAST_YEAR}, not for ${year}`)
  }
}

function utcDate(year: number, month: number, day: number): Date {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  return date
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10)
}

function plusDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000)
}

function easterSundayDate(year: number): Date {
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const month = Math.floor((h + l - 7 * m + 114) / 31)
  const day = ((h + l - 7 * m + 114) % 31) + 1
  return utcDate(year, month, day)
}

/** Easter Sunday of a year as YYYY-MM-DD (anonymous Gregorian algorithm). */
export function easterSunday(year: number): string {
  assertYear(year)
  return isoDate(easterSundayDate(year))
}

function liberationDayIsFree(year: number, rule: LiberationDayRule): boolean {
  if (rule === 'always') return true
  if (rule === 'lustrum') return year % 5 === 0
  return false
}

/**
 * The public holidays of a year, sorted by date. Two holidays can fall on the
 * same date (Bevrijdingsdag and Hemelvaartsdag did in 2005); both are listed.
 */
export function dutchPublicHolidays(year: number, options: DutchHolidayOptions = {}): PublicHoliday[] {
  assertYear(year)
  const easter = easterSundayDate(year)
  const kingsDay = utcDate(year, 4, 27)
  // When 27 April is a Sunday the King celebrates on Saturday the 26th.
  if (kingsDay.getUTCDay() === 0) kingsDay.setUTCDate(26)

  const holidays: [Date, string, string][] = [
    [utcDate(year, 1, 1), 'Nieuwjaarsdag', "New Year's Day"],
    [plusDays(easter, -2), 'Goede Vrijdag', 'Good Friday'],
    [easter, 'Eerste Paasdag', 'Easter Sunday'],
    [plusDays(easter, 1), 'Tweede Paasdag', 'Easter Monday'],
    [kingsDay, 'Koningsdag', "King's Day"],
  ]
  if (liberationDayIsFree(year, options.liberationDay ?? 'lustrum')) {
    holidays.push([utcDate(year, 5, 5), 'Bevrijdingsdag', 'Liberation Day'])
  }
  holidays.push(
    [plusDays(easter, 39), 'Hemelvaartsdag', 'Ascension Day'],
    [plusDays(easter, 49), 'Eerste Pinksterdag', 'Whit Sunday'],
    [plusDays(easter, 50), 'Tweede Pinksterdag', 'Whit Monday'],
    [utcDate(year, 12, 25), 'Eerste Kerstdag', 'Christmas Day'],
    [utcDate(year, 12, 26), 'Tweede Kerstdag', 'Boxing Day'],
  )

  return holidays
    .map(([date, nl, en]) => ({ date: isoDate(date), name: { nl, en } }))
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** Whether a YYYY-MM-DD date is a Dutch public holiday; throws on a date that does not exist. */
export function isDutchPublicHoliday(isoDateString: string, options: DutchHolidayOptions = {}): boolean {
  const match = ISO_DATE.exec(isoDateString)
  const year = Number(match?.[1])
  if (!match || isoDate(utcDate(year, Number(match[2]), Number(match[3]))) !== isoDateString) {
    throw new RangeError(`"${isoDateString}" is not a date in the form YYYY-MM-DD, for example "2026-04-27"`)
  }
  return dutchPublicHolidays(year, options).some((holiday) => holiday.date === isoDateString)
}
