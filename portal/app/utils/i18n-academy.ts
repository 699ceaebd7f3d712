/**
 * The strings of the member's academy pages: browsing, enrolling, lessons, quizzes, certificates and their verification, assignments, in English and Dutch; merged into the dictionaries of
 * i18n.ts. `academyNl` must have the same keys as `academyEn`.
 */
export const academyEn = {
  'nav.academy': 'Academy',
} as const

export const academyNl: Record<keyof typeof academyEn, string> = {
  'nav.academy': 'Academie',
}
