import { optionProblems, supportedLanguages, toolRecipeIds } from '@commons/academy/rules'
import { z } from 'zod'

// The trainers' studio forms: one zod schema per form, checked in the browser
// (Conform) and again in the action. Messages are i18n keys, parameters after
// a '|', as in forms.ts. Every form that changes a working copy carries the
// revision it was made on (see studio.server.ts).

/** What a lesson may show: pictures a browser draws itself, nothing that can carry script (no SVG). */
export const LESSON_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const
export const LESSON_IMAGE_ACCEPT = '.png,.jpg,.jpeg,.gif,.webp,image/png,image/jpeg,image/gif,image/webp'

export const TITLE_MAX = 200
export const SUMMARY_MAX = 2000
/** What the content schema allows per text, and what renderMarkdown reads. */
export const BODY_MAX = 100_000
export const NOTE_MAX = 4000
export const DESCRIPTION_MAX = 300
export const OPTION_ROWS_MIN = 4
export const OPTIONS_MAX = 10

const text = (max: number) => z.string().trim().max(max, `form.tooLong|max=${max}`).optional()
/** One text per language, named `title.nl`, `title.en`; a language left empty is not written yet. */
const texts = (max: number) => z.object(Object.fromEntries(supportedLanguages.map((l) => [l, text(max)])) as Record<(typeof supportedLanguages)[number], ReturnType<typeof text>>).optional()
const someText = (value: Partial<Record<string, string | undefined>> | undefined) => Object.values(value ?? {}).some((v) => v?.trim())

const revision = z.coerce.number({ error: 'error.400' }).int('error.400').min(1, 'error.400')
const contentId = z.string({ error: 'error.400' }).regex(/^[a-z][a-z0-9-]*$/, 'error.400').max(60, 'error.400')
const direction = z.enum(['up', 'down'], { error: 'error.400' })
const languages = z.array(z.enum(supportedLanguages, { error: 'form.choice' }), { error: 'studio.error.noLanguage' }).min(1, 'studio.error.noLanguage')

export const SLUG_PATTERN = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,59}$/

export const newCourseSchema = z
  .object({
    intent: z.literal('create-course'),
    slug: z.string({ error: 'form.required' }).trim().toLowerCase().regex(SLUG_PATTERN, 'studio.error.slugPattern'),
    languages,
    title: texts(TITLE_MAX),
  })
  .refine((v) => v.languages.some((l) => v.title?.[l]?.trim()), { path: ['title'], message: 'studio.error.courseTitle' })

export const detailsSchema = z
  .object({
    intent: z.literal('save-details'),
    revision,
    languages,
    title: texts(TITLE_MAX),
    summary: texts(SUMMARY_MAX),
    audience: texts(SUMMARY_MAX),
    toolRecipeId: z.enum(toolRecipeIds, { error: 'form.choice' }).optional(),
    prerequisites: z.array(contentId).max(20, 'error.400').optional(),
    sequential: z.boolean().optional(),
  })
  .refine((v) => v.languages.some((l) => v.title?.[l]?.trim()), { path: ['title'], message: 'studio.error.courseTitle' })

export const addChapterSchema = z
  .object({ intent: z.literal('add-chapter'), revision, title: texts(TITLE_MAX) })
  .refine((v) => someText(v.title), { path: ['title'], message: 'studio.error.chapterTitle' })
export const renameChapterSchema = z
  .object({ intent: z.literal('rename-chapter'), revision, chapterId: contentId, title: texts(TITLE_MAX) })
  .refine((v) => someText(v.title), { path: ['title'], message: 'studio.error.chapterTitle' })
export const moveChapterSchema = z.object({ intent: z.literal('move-chapter'), revision, chapterId: contentId, direction })
export const removeChapterSchema = z.object({ intent: z.literal('remove-chapter'), revision, chapterId: contentId })

export const addLessonSchema = z
  .object({ intent: z.literal('add-lesson'), revision, chapterId: contentId, title: texts(TITLE_MAX) })
  .refine((v) => someText(v.title), { path: ['title'], message: 'studio.error.lessonTitle' })
export const moveLessonSchema = z.object({ intent: z.literal('move-lesson'), revision, lessonId: contentId, direction })
export const moveLessonToChapterSchema = z.object({ intent: z.literal('move-lesson-to'), revision, lessonId: contentId, chapterId: contentId })
export const removeLessonSchema = z.object({ intent: z.literal('remove-lesson'), revision, lessonId: contentId })

export const lessonSchema = z
  .object({
    intent: z.literal('save-lesson'),
    revision,
    title: texts(TITLE_MAX),
    minutes: z.coerce.number({ error: 'studio.error.minutes' }).int('studio.error.minutes').min(1, 'studio.error.minutes').max(240, 'studio.error.minutes'),
    body: texts(BODY_MAX),
  })
  .refine((v) => someText(v.title), { path: ['title'], message: 'studio.error.lessonTitle' })

export const quizSettingsSchema = z.object({
  intent: z.literal('quiz-settings'),
  revision,
  passMark: z.coerce.number({ error: 'studio.error.passMark' }).int('studio.error.passMark').min(0, 'studio.error.passMark').max(100, 'studio.error.passMark'),
  // Empty: as many attempts as a member likes.
  attemptLimit: z.coerce.number({ error: 'studio.error.attemptLimit' }).int('studio.error.attemptLimit').min(1, 'studio.error.attemptLimit').max(100, 'studio.error.attemptLimit').optional(),
  shuffle: z.boolean().optional(),
})
export const removeQuizSchema = z.object({ intent: z.literal('remove-quiz'), revision })

const optionRow = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'error.400').max(60, 'error.400').optional(),
    text: texts(1000),
    correct: z.boolean().optional(),
  })
  .optional()

const OPTION_RULE_KEYS = {
  'too-few-options': 'studio.error.tooFewOptions',
  'single-needs-one-correct': 'studio.error.singleNeedsOneCorrect',
  'needs-a-correct-option': 'studio.error.needsCorrectOption',
} as const

function definedTexts(texts: Partial<Record<string, string | undefined>>): Partial<Record<(typeof supportedLanguages)[number], string>> {
  const defined: Partial<Record<(typeof supportedLanguages)[number], string>> = {}
  for (const language of supportedLanguages) {
    const value = texts[language]
    if (value) defined[language] = value
  }
  return defined
}

/** The options a trainer filled in: rows without any text are left out. */
export function filledOptions(rows: z.infer<typeof optionRow>[] | undefined) {
  return (rows ?? []).flatMap((row) => (row && someText(row.text) ? [{ id: row.id, text: row.text ?? {}, correct: row.correct ?? false }] : []))
}

export const questionSchema = z
  .object({
    intent: z.literal('save-question'),
    revision,
    questionId: contentId.optional(),
    kind: z.enum(['single', 'multiple'], { error: 'form.choice' }),
    prompt: texts(2000),
    explanation: texts(2000),
    options: z.array(optionRow).max(OPTIONS_MAX, 'error.400').optional(),
  })
  .superRefine((v, ctx) => {
    if (!someText(v.prompt)) ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'studio.error.questionPrompt' })
    const options = filledOptions(v.options).map((o, i) => ({ id: o.id ?? `row-${i}`, text: definedTexts(o.text), correct: o.correct }))
    const problem = optionProblems({ kind: v.kind, options })[0]
    if (problem && problem.code in OPTION_RULE_KEYS) ctx.addIssue({ code: 'custom', path: ['options'], message: OPTION_RULE_KEYS[problem.code as keyof typeof OPTION_RULE_KEYS] })
  })
export const removeQuestionSchema = z.object({ intent: z.literal('remove-question'), revision, questionId: contentId })
export const moveQuestionSchema = z.object({ intent: z.literal('move-question'), revision, questionId: contentId, direction })

/** The text fields of an image upload; the file itself streams into the attachment store. */
export const imageSchema = z.object({
  intent: z.literal('upload-image'),
  description: z.string({ error: 'studio.error.imageDescription' }).trim().min(1, 'studio.error.imageDescription').max(DESCRIPTION_MAX, `form.tooLong|max=${DESCRIPTION_MAX}`),
})

export const submitSchema = z.object({ intent: z.literal('submit'), revision })
export const requestChangesSchema = z.object({
  intent: z.literal('request-changes'),
  revision,
  reviewNote: z.string({ error: 'studio.error.reviewNote' }).trim().min(1, 'studio.error.reviewNote').max(NOTE_MAX, `form.tooLong|max=${NOTE_MAX}`),
})
export const publishSchema = z.object({ intent: z.literal('publish'), revision })
export const startDraftSchema = z.object({ intent: z.literal('start-draft') })
export const discardSchema = z.object({ intent: z.literal('discard'), revision })
export const revokeCertificateSchema = z.object({
  intent: z.literal('revoke-certificate'),
  code: z.string({ error: 'studio.error.certificateCode' }).trim().min(1, 'studio.error.certificateCode').max(40, 'studio.error.certificateCode'),
})
export const deleteCourseSchema = z.object({ intent: z.literal('delete-course'), revision })

/** The forms of the course editor, by their `intent`. */
export const courseForms = {
  'save-details': detailsSchema,
  'add-chapter': addChapterSchema,
  'rename-chapter': renameChapterSchema,
  'move-chapter': moveChapterSchema,
  'remove-chapter': removeChapterSchema,
  'add-lesson': addLessonSchema,
  'move-lesson': moveLessonSchema,
  'move-lesson-to': moveLessonToChapterSchema,
  'remove-lesson': removeLessonSchema,
  submit: submitSchema,
  'request-changes': requestChangesSchema,
  publish: publishSchema,
  'start-draft': startDraftSchema,
  discard: discardSchema,
  'delete-course': deleteCourseSchema,
  'revoke-certificate': revokeCertificateSchema,
} as const

/** The forms of the lesson editor, by their `intent`. */
export const lessonForms = {
  'save-lesson': lessonSchema,
  'quiz-settings': quizSettingsSchema,
  'remove-quiz': removeQuizSchema,
  'save-question': questionSchema,
  'remove-question': removeQuestionSchema,
  'move-question': moveQuestionSchema,
  'upload-image': imageSchema,
  'start-draft': startDraftSchema,
} as const

/**
 * Which form on a page an answer belongs to: its intent and the chapter,
 * lesson or question it is about, so only that form shows the errors.
 */
export function formKey(intent: string, target?: string | null): string {
  return target ? `${intent}-${target}` : intent
}

/** A refusal as a form error: its i18n key with the parameters after '|' (see parseFieldError). */
export function refusal(key: string, vars: Record<string, string | number> = {}): string {
  return [key, ...Object.entries(vars).map(([name, value]) => `${name}=${String(value).replace(/[|=]/g, ' ')}`)].join('|')
}
