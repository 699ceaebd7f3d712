import type { SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import { data } from '@remix-run/node'
import type { z } from 'zod'
import type { Translate } from '../i18n'
import { AcademyError } from './content.server'

// How the studio's routes answer a form: the zod check, the notice, the
// refusal with its status. The changes themselves are in studio.server.ts.


/** What a studio action answers; `formKey` names the form on the page it is for (see studio-forms.ts). */
export interface StudioAnswer {
  formKey: string
  result: SubmissionResult<string[]> | null
  notice: string | null
  error: string | null
}

/**
 * Checks a form with its schema and runs `act` on the value. Invalid input
 * goes back to the form (400, values kept); a refusal is said above the page
 * with its status (nothing was changed); `act` returns the notice, or a
 * Response (a redirect) to send instead.
 */
export async function answerForm<Schema extends z.ZodObject>(
  formData: FormData,
  schema: Schema,
  key: string,
  t: Translate,
  act: (value: z.output<Schema>) => Promise<string | Response>,
) {
  const submission = parseWithZod(formData, { schema })
  const answer = (status: number, fields: Partial<StudioAnswer>) => data<StudioAnswer>({ formKey: key, result: null, notice: null, error: null, ...fields }, { status })
  if (submission.status !== 'success') return answer(400, { result: submission.reply() })
  try {
    const done = await act(submission.value)
    if (done instanceof Response) return done
    return answer(200, { result: submission.reply({ resetForm: true }), notice: done })
  } catch (error) {
    if (!(error instanceof AcademyError)) throw error
    if (error.status === 404) throw new Response('Not Found', { status: 404 })
    // Said once, above the page (role=alert); the form keeps what was typed.
    return answer(error.status, { result: submission.reply(), error: t(error.key, error.vars) })
  }
}

/** A 404 for a course, lesson or image the URL names but that does not exist. */
export async function orNotFound<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise
  } catch (error) {
    if (error instanceof AcademyError && error.status === 404) throw new Response('Not Found', { status: 404 })
    throw error
  }
}
