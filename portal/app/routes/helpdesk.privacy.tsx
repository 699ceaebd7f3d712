import { getFormProps, getInputProps, type SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { ActionNotice } from '~/components/action-notice'
import { Field, FieldErrors, FormErrors } from '~/components/field'
import { requireRole } from '~/utils/auth.server'
import { env } from '~/utils/env.server'
import { erasePerson, retentionCutoff, type ErasureCounts } from '~/utils/helpdesk/privacy.server'
import { getTranslator } from '~/utils/i18n.server'
import { useLanguage, useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'

export const meta: MetaFunction = () => [{ title: 'Helpdesk privacy · Commons Portal' }]

const eraseSchema = z.object({
  email: z.email({ error: 'form.email' }).trim().toLowerCase().max(254, 'form.tooLong|max=254'),
  confirm: z.literal(true, { error: 'privacy.mustConfirm' }),
})

/** Operators answer erasure requests here and see the retention period. */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, 'platform-operator')
  return { retentionDays: env().HELPDESK_RETENTION_DAYS, purgeBefore: retentionCutoff().toISOString(), timeZone: env().HELPDESK_TIMEZONE }
}

type ActionResult = { result: SubmissionResult<string[]>; notice?: string; counts?: ErasureCounts }

export async function action({ request }: ActionFunctionArgs) {
  const session = await requireRole(request, 'platform-operator')
  const { t } = await getTranslator(request)
  const submission = parseWithZod(await request.formData(), { schema: eraseSchema })
  if (submission.status !== 'success') return data<ActionResult>({ result: submission.reply() }, { status: 400 })
  const { email } = submission.value
  const erased = await erasePerson({ userId: session.userId }, { email })
  if (!erased.found) return data<ActionResult>({ result: submission.reply({ resetForm: true }), notice: t('privacy.nothingFound', { email }) })
  return data<ActionResult>({ result: submission.reply({ resetForm: true }), notice: t('privacy.erased', { email }), counts: erased.counts })
}

function Counts({ counts }: { counts: ErasureCounts }) {
  const t = useT()
  const lines = [
    t('privacy.counts.tickets', { count: counts.tickets }),
    t('privacy.counts.messages', { count: counts.messages }),
    t('privacy.counts.mentions', { count: counts.mentions }),
    t('privacy.counts.attachments', { count: counts.attachments }),
    t('privacy.counts.follows', { count: counts.watchers + counts.presences + counts.savedViews }),
    t('privacy.counts.events', { count: counts.events }),
    t('privacy.counts.unassigned', { count: counts.unassigned }),
    t('privacy.counts.mails', { count: counts.mails }),
  ]
  return (
    <section className="panel" aria-labelledby="counts-title">
      <h2 id="counts-title">{t('privacy.counts.title')}</h2>
      <ul>
        {lines.map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
    </section>
  )
}

export default function HelpdeskPrivacy() {
  const { retentionDays, purgeBefore, timeZone } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>() as ActionResult | undefined
  const t = useT()
  const lang = useLanguage()
  const [form, fields] = useZodForm(eraseSchema, { id: 'erase-form', lastResult: actionData?.result })
  const date = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'long', timeZone }).format(new Date(purgeBefore))
  return (
    <>
      <h1>{t('privacy.title')}</h1>
      <p>{t('privacy.intro')}</p>
      <ActionNotice result={actionData} />
      {actionData?.counts ? <Counts counts={actionData.counts} /> : null}
      <section className="panel danger-zone" aria-labelledby="erase-title">
        <h2 id="erase-title">{t('privacy.erase.title')}</h2>
        <p>{t('privacy.erase.explain')}</p>
        <Form method="post" {...getFormProps(form)} noValidate>
          <FormErrors id={form.errorId} errors={form.errors} />
          <Field id={fields.email.id} label={t('privacy.field.email')} help={t('privacy.field.email.help')} errors={fields.email.errors}>
            {(aria) => <input {...getInputProps(fields.email, { type: 'email' })} {...aria} autoComplete="off" />}
          </Field>
          <div className="field checkbox">
            <input
              {...getInputProps(fields.confirm, { type: 'checkbox', value: 'on' })}
              aria-invalid={fields.confirm.errors ? true : undefined}
              aria-describedby={fields.confirm.errors ? `${fields.confirm.id}-error` : undefined}
            />
            <label htmlFor={fields.confirm.id}>{t('privacy.confirm')}</label>
            <FieldErrors id={`${fields.confirm.id}-error`} errors={fields.confirm.errors} />
          </div>
          <button type="submit" className="danger">
            {t('privacy.submit')}
          </button>
        </Form>
      </section>
      <section className="panel" aria-labelledby="retention-title">
        <h2 id="retention-title">{t('privacy.retention.title')}</h2>
        <p>{t('privacy.retention.explain', { days: retentionDays, date })}</p>
      </section>
    </>
  )
}
