/**
 * The strings of the trainers' studio: writing, reviewing and publishing courses, lessons, quizzes and images, in English and Dutch; merged into the dictionaries of
 * i18n.ts. `academyStudioNl` must have the same keys as `academyStudioEn`.
 */
export const academyStudioEn = {
} as const

export const academyStudioNl: Record<keyof typeof academyStudioEn, string> = {
}
