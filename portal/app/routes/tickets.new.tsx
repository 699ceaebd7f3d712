import { getFormProps, getInputProps, getSelectProps, getTextareaProps } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { Field, FormErrors } from '~/components/field'
import { AttachmentInput, RefusedFiles } from '~/components/tickets'
import { requireUser } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { env } from '~/utils/env.server'
import { CATEGORIES, newTicketSchema, PRIORITIES } from '~/utils/helpdesk/ticket-forms'
import { actorOf, createTicket, TicketError } from '~/utils/helpdesk/tickets.server'
import { discard, readTicketForm, type RefusedFile } from '~/utils/helpdesk/uploads.server'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'

export const meta: MetaFunction = () => [{ title: 'Commons Portal' }]

/** The organisations the person may open a ticket for, with their tools. */
async function choices(userId: string, lang: 'nl' | 'en') {
  const memberships = await db().membership.findMany({
    where: { userId },
    include: { organization: { include: { instances: { where: { removedAt: null }, orderBy: { createdAt: 'asc' } } } } },
    orderBy: { organization: { name: 'asc' } },
  })
  return memberships.map((m) => ({
    id: m.organization.id,
    name: m.organization.name,
    instances: m.organization.instances.map((i) => ({ id: i.id, name: toolName(i.recipeId, lang) })),
  }))
}

export async function loader({ request }: LoaderFunctionArgs) {
  const session = await requireUser(request)
  const { lang } = await getTranslator(request)
  const organizations = await choices(session.userId, lang)
  const url = new URL(request.url)
  const wanted = url.searchParams.get('instance')
  const byInstance = wanted ? organizations.find((o) => o.instances.some((i) => i.id === wanted)) : undefined
  return {
    organizations,
    defaults: {
      organizationId: byInstance?.id ?? organizations.find((o) => o.id === session.activeOrganizationId)?.id ?? organizations[0]?.id ?? '',
      instanceId: byInstance ? wanted ?? '' : '',
      category: byInstance ? 'TOOL_PROBLEM' : '',
    },
    maxMb: env().ATTACHMENT_MAX_MB,
  }
}

export async function action({ request }: ActionFunctionArgs) {
  const session = await requireUser(request)
  const { lang } = await getTranslator(request)
  let form: Awaited<ReturnType<typeof readTicketForm>>
  try {
    form = await readTicketForm(request)
  } catch (error) {
    if (error instanceof Error && error.name === 'MaxPartSizeExceededError') {
      return data({ result: null, refused: [] as RefusedFile[], error: 'ticket.error.formTooLarge' as const }, { status: 413 })
    }
    throw error
  }
  const submission = parseWithZod(form.formData, { schema: newTicketSchema })
  const refuse = async (status: number, reply: ReturnType<typeof submission.reply>, error: 'ticket.error.attachments' | null = null) => {
    await discard(form.stored)
    return data({ result: reply, refused: form.refused, error }, { status })
  }
  if (submission.status !== 'success') return refuse(400, submission.reply())
  if (form.refused.length) return refuse(400, submission.reply(), 'ticket.error.attachments')
  try {
    const ticket = await createTicket(actorOf(session), {
      organizationId: submission.value.organizationId,
      subject: submission.value.subject,
      body: submission.value.body,
      category: submission.value.category,
      priority: submission.value.priority,
      instanceId: submission.value.instanceId || null,
      requester: { userId: session.userId, email: session.user.email, name: session.user.name, language: lang },
      attachments: form.stored,
    })
    return redirect(`/tickets/${ticket.id}?created=1`)
  } catch (error) {
    if (!(error instanceof TicketError)) {
      await discard(form.stored)
      throw error
    }
    const field = error.key === 'ticket.error.instance' ? 'instanceId' : 'organizationId'
    return refuse(error.status === 404 ? 403 : error.status, submission.reply({ fieldErrors: { [field]: [error.key] } }))
  }
}

export default function NewTicket() {
  const { organizations, defaults, maxMb } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const t = useT()
  const [form, fields] = useZodForm(newTicketSchema, { lastResult: actionData?.result, defaultValue: { ...defaults, priority: 'NORMAL' } })
  const chosenOrg = organizations.find((o) => o.id === (fields.organizationId.value ?? defaults.organizationId)) ?? organizations[0]
  if (organizations.length === 0) {
    return (
      <section className="panel narrow" aria-labelledby="new-ticket-title">
        <h1 id="new-ticket-title">{t('ticket.new.title')}</h1>
        <p>{t('ticket.new.noOrganisation')}</p>
        <p>
          <Link to="/organisations/new">{t('dashboard.createOrg')}</Link>
        </p>
      </section>
    )
  }
  return (
    <section className="panel narrow" aria-labelledby="new-ticket-title">
      <h1 id="new-ticket-title">{t('ticket.new.title')}</h1>
      <p>{t('ticket.new.intro')}</p>
      {actionData?.error ? (
        <div className="notice error" role="alert">
          <p>{t(actionData.error, { max: String(maxMb) })}</p>
          <RefusedFiles files={actionData.refused} maxMb={maxMb} />
        </div>
      ) : null}
      <Form method="post" encType="multipart/form-data" {...getFormProps(form)} noValidate>
        <FormErrors id={form.errorId} errors={form.errors} />
        {organizations.length > 1 ? (
          <Field id={fields.organizationId.id} label={t('ticket.field.organisation')} errors={fields.organizationId.errors}>
            {(aria) => (
              <select {...getSelectProps(fields.organizationId)} {...aria}>
                {organizations.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : (
          <input {...getInputProps(fields.organizationId, { type: 'hidden' })} value={organizations[0]!.id} />
        )}
        <Field id={fields.subject.id} label={t('ticket.field.subject')} help={t('ticket.field.subject.help')} errors={fields.subject.errors}>
          {(aria) => <input {...getInputProps(fields.subject, { type: 'text' })} {...aria} autoComplete="off" />}
        </Field>
        <Field id={fields.body.id} label={t('ticket.field.body')} help={t('ticket.field.body.help')} errors={fields.body.errors}>
          {(aria) => <textarea {...getTextareaProps(fields.body)} {...aria} rows={10} />}
        </Field>
        <Field id={fields.category.id} label={t('ticket.field.category')} errors={fields.category.errors}>
          {(aria) => (
            <select {...getSelectProps(fields.category)} {...aria}>
              <option value="">{t('ticket.field.category.choose')}</option>
              {CATEGORIES.map((c) => (
                <option key={c} value={c}>
                  {t(`ticket.category.${c}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {chosenOrg && chosenOrg.instances.length > 0 ? (
          <Field id={fields.instanceId.id} label={t('ticket.field.instance')} errors={fields.instanceId.errors}>
            {(aria) => (
              <select {...getSelectProps(fields.instanceId)} {...aria}>
                <option value="">{t('ticket.field.instance.none')}</option>
                {chosenOrg.instances.map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        <fieldset className="field" aria-describedby={fields.priority.errors?.length ? `${fields.priority.id}-error` : undefined}>
          <legend>{t('ticket.field.priority')}</legend>
          {PRIORITIES.map((p) => (
            <div key={p} className="choice">
              <input type="radio" id={`priority-${p}`} name={fields.priority.name} value={p} defaultChecked={(fields.priority.initialValue ?? 'NORMAL') === p} />
              <label htmlFor={`priority-${p}`}>
                <strong>{t(`ticket.priority.${p}`)}</strong> — {t(`ticket.priority.${p}.help`)}
              </label>
            </div>
          ))}
          {fields.priority.errors?.length ? (
            <p id={`${fields.priority.id}-error`} className="field-errors">
              {t('ticket.form.priorityRequired')}
            </p>
          ) : null}
        </fieldset>
        <AttachmentInput maxMb={maxMb} />
        <button type="submit" className="primary" disabled={navigation.state === 'submitting'}>
          {t('ticket.new.submit')}
        </button>{' '}
        <Link to="/tickets">{t('ticket.new.cancel')}</Link>
      </Form>
    </section>
  )
}
