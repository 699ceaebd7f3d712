import type { Language } from './i18n'

const locales: Record<Language, string> = { nl: 'nl-NL', en: 'en-GB' }

/** A moment as people on the platform read it: their language, Dutch time. */
export function formatDateTime(iso: string, lang: Language) {
  return new Intl.DateTimeFormat(locales[lang], { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Amsterdam' }).format(new Date(iso))
}

const units = ['B', 'kB', 'MB', 'GB', 'TB']

/** A size in decimal units with one decimal, as disks and uploads are counted: "12.4 MB" (Dutch "12,4 MB"). */
export function formatBytes(bytes: number, lang: Language) {
  let value = bytes
  let unit = 0
  // Compared after rounding, so 999,960 bytes reads "1 MB", not "1,000 kB".
  while (Math.round(value * 10) / 10 >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  const number = new Intl.NumberFormat(locales[lang], { maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value)
  return `${number} ${units[unit]}`
}
