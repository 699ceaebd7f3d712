/**
 * The strings of course statistics, onboarding offers on the dashboard and in mails, and the seed of the starter courses, in English and Dutch; merged into the dictionaries of
 * i18n.ts. `academyInsightsNl` must have the same keys as `academyInsightsEn`.
 */
export const academyInsightsEn = {
} as const

export const academyInsightsNl: Record<keyof typeof academyInsightsEn, string> = {
}
