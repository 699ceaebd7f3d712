import { getFormProps, getTextareaProps } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { Field, FormErrors } from '~/components/field'
import { satisfactionSchema } from '~/utils/helpdesk/ticket-forms'
import { findSatisfaction, rateTicket } from '~/utils/helpdesk/tickets.server'
import { useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'

export const meta: MetaFunction = () => [{ title: 'Commons Portal' }, { name: 'robots', content: 'noindex' }]

/** The satisfaction link from the resolution mail: no sign-in, works once. */
export async function loader({ params }: LoaderFunctionArgs) {
  const found = await findSatisfaction(params.token ?? '')
  if (found.state !== 'open') return data({ state: found.state, ticket: null }, { status: found.state === 'invalid' ? 404 : 410 })
  return { state: 'open' as const, ticket: { number: found.ticket.number, subject: found.ticket.subject } }
}

export async function action({ request, params }: ActionFunctionArgs) {
  const submission = parseWithZod(await request.formData(), { schema: satisfactionSchema })
  if (submission.status !== 'success') return data({ result: submission.reply(), done: false }, { status: 400 })
  const outcome = await rateTicket(params.token ?? '', submission.value.rating, submission.value.comment ?? '')
  if (outcome === 'invalid') throw new Response('Not Found', { status: 404 })
  if (outcome === 'used') return data({ result: submission.reply({ formErrors: ['satisfaction.used'] }), done: false }, { status: 410 })
  return { result: submission.reply(), done: true }
}

const RATINGS = [1, 2, 3, 4, 5] as const

export default function Satisfaction() {
  const { state, ticket } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const t = useT()
  const [form, fields] = useZodForm(satisfactionSchema, { lastResult: actionData?.result })
  if (actionData?.done) {
    return (
      <section className="panel narrow" aria-labelledby="sat-title">
        <h1 id="sat-title">{t('satisfaction.thanks.title')}</h1>
        <p role="status">{t('satisfaction.thanks')}</p>
      </section>
    )
  }
  if (state !== 'open' || !ticket) {
    return (
      <section className="panel narrow" aria-labelledby="sat-title">
        <h1 id="sat-title">{t('satisfaction.title')}</h1>
        <p>{state === 'used' ? t('satisfaction.used') : t('satisfaction.invalid')}</p>
      </section>
    )
  }
  return (
    <section className="panel narrow" aria-labelledby="sat-title">
      <h1 id="sat-title">{t('satisfaction.title')}</h1>
      <p>{t('satisfaction.intro', { number: String(ticket.number), subject: ticket.subject })}</p>
      <Form method="post" {...getFormProps(form)} noValidate>
        <FormErrors id={form.errorId} errors={form.errors} />
        <fieldset className="field" aria-describedby={fields.rating.errors?.length ? 'rating-error' : undefined}>
          <legend>{t('satisfaction.rating')}</legend>
          {RATINGS.map((r) => (
            <div key={r} className="choice">
              <input type="radio" id={`rating-${r}`} name={fields.rating.name} value={r} />
              <label htmlFor={`rating-${r}`}>{t(`satisfaction.rating.${r}`)}</label>
            </div>
          ))}
          {fields.rating.errors?.length ? (
            <p id="rating-error" className="field-errors">
              {t('satisfaction.ratingRequired')}
            </p>
          ) : null}
        </fieldset>
        <Field id={fields.comment.id} label={t('satisfaction.comment')} errors={fields.comment.errors}>
          {(aria) => <textarea {...getTextareaProps(fields.comment)} {...aria} rows={4} />}
        </Field>
        <button type="submit" className="primary">
          {t('satisfaction.submit')}
        </button>
      </Form>
    </section>
  )
}
