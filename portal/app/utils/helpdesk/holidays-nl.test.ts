import { describe, expect, it } from 'vitest'
import { dutchPublicHolidays, easterSunday, isDutchPublicHoliday } from './holidays-nl'

// Oudin's algorithm (1940): a second, independent computus to check the first against.
function oudinEaster(year: number): string {
  const g = year % 19
  const c = Math.floor(year / 100)
  const h = (c - Math.floor(c / 4) - Math.floor((8 * c + 13) / 25) + 19 * g + 15) % 30
  const i = h - Math.floor(h / 28) * (1 - Math.floor(29 / (h + 1)) * Math.floor((21 - g) / 11))
  const j = (year + Math.floor(year / 4) + i + 2 - c + Math.floor(c / 4)) % 7
  const l = i - j
  const month = 3 + Math.floor((l + 40) / 44)
  const day = l + 28 - 31 * Math.floor(month / 4)
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

describe('easterSunday', () => {
  it.each([
    [2024, '2024-03-31'],
    [2025, '2025-04-20'],
    [2026, '2026-04-05'],
    [2027, '2027-03-28'],
    [2000, '2000-04-23'],
    [2019, '2019-04-21'],
    // The extremes: the earliest and the latest date Easter can fall on.
    [1818, '1818-03-22'],
    [2285, '2285-03-22'],
    [1943, '1943-04-25'],
    [2038, '2038-04-25'],
  ])('Easter %i is on %s', (year, date) => {
    expect(easterSunday(year)).toBe(date)
  })

  it('agrees with an independent algorithm and falls on a Sunday between 22 March and 25 April, for every year', () => {
    for (let year = 1583; year <= 9999; year++) {
      const easter = easterSunday(year)
      expect(easter, String(year)).toBe(oudinEaster(year))
      const date = new Date(`${easter}T00:00:00Z`)
      expect(date.getUTCDay(), easter).toBe(0)
      expect(easter.slice(5) >= '03-22' && easter.slice(5) <= '04-25', easter).toBe(true)
    }
  })

  it('refuses years outside the Gregorian four-digit range', () => {
    expect(() => easterSunday(1582)).toThrow(RangeError)
    expect(() => easterSunday(10_000)).toThrow(/1583 to 9999/)
    expect(() => easterSunday(2025.5)).toThrow(/not for 2025.5/)
  })
})

describe('dutchPublicHolidays', () => {
  it('lists 2026, a year without Bevrijdingsdag by default', () => {
    expect(dutchPublicHolidays(2026).map((h) => [h.date, h.name.nl])).toEqual([
      ['2026-01-01', 'Nieuwjaarsdag'],
      ['2026-04-03', 'Goede Vrijdag'],
      ['2026-04-05', 'Eerste Paasdag'],
      ['2026-04-06', 'Tweede Paasdag'],
      ['2026-04-27', 'Koningsdag'],
      ['2026-05-14', 'Hemelvaartsdag'],
      ['2026-05-24', 'Eerste Pinksterdag'],
      ['2026-05-25', 'Tweede Pinksterdag'],
      ['2026-12-25', 'Eerste Kerstdag'],
      ['2026-12-26', 'Tweede Kerstdag'],
    ])
  })

  it('lists 2025, a lustrum year in which Koningsdag moves to Saturday 26 April', () => {
    expect(dutchPublicHolidays(2025)).toEqual([
      { date: '2025-01-01', name: { nl: 'Nieuwjaarsdag', en: "New Year's Day" } },
      { date: '2025-04-18', name: { nl: 'Goede Vrijdag', en: 'Good Friday' } },
      { date: '2025-04-20', name: { nl: 'Eerste Paasdag', en: 'Easter Sunday' } },
      { date: '2025-04-21', name: { nl: 'Tweede Paasdag', en: 'Easter Monday' } },
      { date: '2025-04-26', name: { nl: 'Koningsdag', en: "King's Day" } },
      { date: '2025-05-05', name: { nl: 'Bevrijdingsdag', en: 'Liberation Day' } },
      { date: '2025-05-29', name: { nl: 'Hemelvaartsdag', en: 'Ascension Day' } },
      { date: '2025-06-08', name: { nl: 'Eerste Pinksterdag', en: 'Whit Sunday' } },
      { date: '2025-06-09', name: { nl: 'Tweede Pinksterdag', en: 'Whit Monday' } },
      { date: '2025-12-25', name: { nl: 'Eerste Kerstdag', en: 'Christmas Day' } },
      { date: '2025-12-26', name: { nl: 'Tweede Kerstdag', en: 'Boxing Day' } },
    ])
  })

  it.each([
    [2014, '2014-04-26'],
    [2025, '2025-04-26'],
    [2031, '2031-04-26'],
    [2024, '2024-04-27'],
    [2026, '2026-04-27'],
    [2027, '2027-04-27'],
  ])('puts Koningsdag %i on %s', (year, date) => {
    expect(dutchPublicHolidays(year).find((h) => h.name.nl === 'Koningsdag')?.date).toBe(date)
  })

  it('places Hemelvaart 39 and Pinkstermaandag 50 days after Easter', () => {
    const of = (year: number, nl: string) => dutchPublicHolidays(year).find((h) => h.name.nl === nl)?.date
    expect(of(2026, 'Hemelvaartsdag')).toBe('2026-05-14')
    expect(of(2026, 'Tweede Pinksterdag')).toBe('2026-05-25')
    expect(of(2024, 'Hemelvaartsdag')).toBe('2024-05-09')
    expect(of(2027, 'Tweede Pinksterdag')).toBe('2027-05-17')
  })

  it('gives Bevrijdingsdag as the option says', () => {
    const liberation = (year: number, liberationDay?: 'always' | 'lustrum' | 'never') =>
      dutchPublicHolidays(year, liberationDay ? { liberationDay } : {}).some((h) => h.date === `${year}-05-05`)
    expect(liberation(2025)).toBe(true)
    expect(liberation(2030)).toBe(true)
    expect(liberation(2026)).toBe(false)
    expect(liberation(2026, 'always')).toBe(true)
    expect(liberation(2025, 'never')).toBe(false)
    expect(liberation(2025, 'lustrum')).toBe(true)
  })

  it('lists both holidays when Bevrijdingsdag falls on Hemelvaartsdag', () => {
    expect(dutchPublicHolidays(2005).filter((h) => h.date === '2005-05-05').map((h) => h.name.nl)).toEqual(['Bevrijdingsdag', 'Hemelvaartsdag'])
  })

  it('is sorted and has ten holidays, eleven in a lustrum year, every year', () => {
    for (let year = 1900; year <= 2200; year++) {
      const dates = dutchPublicHolidays(year).map((h) => h.date)
      expect(dates, String(year)).toEqual([...dates].sort())
      expect(dates.length, String(year)).toBe(year % 5 === 0 ? 11 : 10)
      expect(dates.every((date) => date.startsWith(`${year}-`))).toBe(true)
    }
  })
})

describe('isDutchPublicHoliday', () => {
  it('knows holidays from ordinary days', () => {
    expect(isDutchPublicHoliday('2025-12-25')).toBe(true)
    expect(isDutchPublicHoliday('2025-12-26')).toBe(true)
    expect(isDutchPublicHoliday('2025-12-24')).toBe(false)
    expect(isDutchPublicHoliday('2026-04-03')).toBe(true)
    expect(isDutchPublicHoliday('2026-04-04')).toBe(false)
    expect(isDutchPublicHoliday('2025-04-27')).toBe(false)
  })

  it('passes the Bevrijdingsdag option on', () => {
    expect(isDutchPublicHoliday('2026-05-05')).toBe(false)
    expect(isDutchPublicHoliday('2026-05-05', { liberationDay: 'always' })).toBe(true)
    expect(isDutchPublicHoliday('2025-05-05', { liberationDay: 'never' })).toBe(false)
  })

  it.each(['2025-02-30', '2025-2-3', '25-12-2025', 'tomorrow', ''])('refuses %j with the expected form', (date) => {
    expect(() => isDutchPublicHoliday(date)).toThrow(/form YYYY-MM-DD/)
  })
})
