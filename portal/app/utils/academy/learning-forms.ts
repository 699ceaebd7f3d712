import { z } from 'zod'

// The members' academy forms: one zod schema per form, used in the browser
// (Conform) and in the action. Messages are i18n keys, as in forms.ts.

const rowId = z.string({ error: 'error.400' }).min(1, 'error.400').max(64, 'error.400')
const contentId = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'error.400')
  .max(60, 'error.400')

/** "Start course" on the course page. */
export const enrolSchema = z.object({ intent: z.literal('enrol') })

/** An organisation admin asks all or some members to take the course. */
export const assignSchema = z
  .object({
    intent: z.literal('assign'),
    organization: z.string({ error: 'error.400' }).min(1, 'error.400').max(60, 'error.400'),
    scope: z.enum(['all', 'chosen'], { error: 'academy.assign.scopeRequired' }),
    members: z.array(rowId).max(1000, 'error.400').optional(),
  })
  .refine((v) => v.scope === 'all' || (v.members?.length ?? 0) > 0, { path: ['members'], message: 'academy.assign.chooseMembers' })

/** "Mark as done" on a lesson without a quiz. */
export const completeSchema = z.object({ intent: z.literal('complete') })

export const QUIZ_FIELD_PREFIX = 'answer.'

/** The answers of a quiz form: option ids per question id. */
export const quizFormSchema = z.object({
  intent: z.literal('submit-quiz'),
  answers: z.record(contentId, z.array(contentId).max(50, 'error.400')),
})

/**
 * Reads a quiz form: a radio group or checkboxes per question, named
 * `answer.<questionId>`. Whether every question is answered is for
 * `answerProblems` to say, per question.
 */
export function readQuizForm(formData: FormData) {
  const answers = new Map<string, string[]>()
  for (const [name, value] of formData) {
    if (!name.startsWith(QUIZ_FIELD_PREFIX) || typeof value !== 'string') continue
    const questionId = name.slice(QUIZ_FIELD_PREFIX.length)
    answers.set(questionId, [...(answers.get(questionId) ?? []), value])
  }
  return quizFormSchema.safeParse({ intent: formData.get('intent'), answers: Object.fromEntries(answers) })
}

/** Letters and digits that cannot be mistaken for each other when read aloud or typed from paper: no 0/O, 1/I/L. */
export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
export const CODE_LENGTH = 12

/**
 * A certificate code as someone typed it, in the form it is stored: any case,
 * spaces and dashes anywhere or nowhere. Null when it cannot be a code at all.
 */
export function normaliseCertificateCode(input: string): string | null {
  const bare = input.toUpperCase().replace(/[\s\-‐‑‒–—]/g, '')
  if (bare.length !== CODE_LENGTH || [...bare].some((c) => !CODE_ALPHABET.includes(c))) return null
  return `${bare.slice(0, 4)}-${bare.slice(4, 8)}-${bare.slice(8)}`
}

/** The form on /certificates. */
export const certificateLookupSchema = z.object({
  code: z
    .string({ error: 'form.required' })
    .trim()
    .min(1, 'form.required')
    .max(40, 'academy.certificate.lookup.invalid')
    .refine((code) => normaliseCertificateCode(code) !== null, 'academy.certificate.lookup.invalid'),
})
