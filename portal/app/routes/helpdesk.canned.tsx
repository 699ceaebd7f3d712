import { getFormProps, getInputProps, getSelectProps, getTextareaProps, useForm, type SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { ActionNotice } from '~/components/action-notice'
import { Field, FormErrors } from '~/components/field'
import { When } from '~/components/tickets'
import { ButtonForm } from '~/components/tools'
import queueStylesUrl from '~/styles/helpdesk-queue.css?url'
import { requireRole } from '~/utils/auth.server'
import { env } from '~/utils/env.server'
import {
  CANNED_VARIABLES,
  CannedError,
  cannedReplies,
  cannedReply,
  cannedReplySchema,
  createCannedReply,
  deleteCannedReply,
  updateCannedReply,
} from '~/utils/helpdesk/canned.server'
import { LANGUAGES } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { useT } from '~/utils/use-t'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: queueStylesUrl }]

export const meta: MetaFunction = () => [{ title: 'Canned replies · Commons Portal' }]

const deleteSchema = z.object({ intent: z.literal('delete'), id: z.string().min(1).max(64) })
const saveSchema = cannedReplySchema.extend({ intent: z.enum(['create', 'update']), id: z.string().max(64).optional() })

/** The helpdesk's canned replies: every agent and operator may read, write, change and delete them. */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, 'helpdesk-agent', 'platform-operator')
  const { lang } = await getTranslator(request)
  const editId = new URL(request.url).searchParams.get('edit')
  const replies = await cannedReplies()
  let editing: { id: string; title: string; language: string; body: string } | null = null
  if (editId) {
    try {
      const reply = await cannedReply(editId)
      editing = { id: reply.id, title: reply.title, language: reply.language, body: reply.body }
    } catch (error) {
      // Deleted meanwhile (perhaps from this very page): the list shows what is left.
      if (!(error instanceof CannedError)) throw error
    }
  }
  return {
    lang,
    editing,
    replies: replies.map((r) => ({ id: r.id, title: r.title, language: r.language, body: r.body, updatedAt: r.updatedAt.toISOString(), by: r.createdBy?.name ?? null })),
    variables: CANNED_VARIABLES,
    timeZone: env().HELPDESK_TIMEZONE,
  }
}

type ActionResult = { notice?: string; error?: string; save?: SubmissionResult<string[]> }

export async function action({ request }: ActionFunctionArgs) {
  const session = await requireRole(request, 'helpdesk-agent', 'platform-operator')
  const { t } = await getTranslator(request)
  const formData = await request.formData()

  if (formData.get('intent') === 'delete') {
    const submission = parseWithZod(formData, { schema: deleteSchema })
    if (submission.status !== 'success') return data<ActionResult>({ error: t('error.400') }, { status: 400 })
    try {
      await deleteCannedReply(submission.value.id)
      return data<ActionResult>({ notice: t('canned.deleted') })
    } catch (error) {
      if (!(error instanceof CannedError)) throw error
      return data<ActionResult>({ error: t(error.key) }, { status: error.status })
    }
  }

  const submission = parseWithZod(formData, { schema: saveSchema })
  if (submission.status !== 'success') return data<ActionResult>({ save: submission.reply() }, { status: 400 })
  const { intent, id, ...input } = submission.value
  try {
    if (intent === 'update') {
      if (!id) return data<ActionResult>({ error: t('error.400') }, { status: 400 })
      const reply = await updateCannedReply(id, input)
      return data<ActionResult>({ notice: t('canned.updated', { title: reply.title }), save: submission.reply() })
    }
    const reply = await createCannedReply(session.userId, input)
    return data<ActionResult>({ notice: t('canned.created', { title: reply.title }), save: submission.reply({ resetForm: true }) })
  } catch (error) {
    if (!(error instanceof CannedError)) throw error
    const reply = error.key === 'canned.error.titleTaken' ? submission.reply({ fieldErrors: { title: [error.key] } }) : submission.reply({ formErrors: [error.key] })
    return data<ActionResult>({ save: reply }, { status: error.status })
  }
}

function CannedForm({ result }: { result?: SubmissionResult<string[]> }) {
  const { editing, lang } = useLoaderData<typeof loader>()
  const t = useT()
  const [form, fields] = useForm<{ title: string; language: string; body: string }>({
    // A new id per reply being edited, so the fields take that reply's values.
    id: editing ? `canned-${editing.id}` : 'canned-new',
    lastResult: result,
    defaultValue: editing ?? { language: lang },
    shouldValidate: 'onSubmit',
  })
  const titleId = 'canned-form-heading'
  return (
    <section className="panel" aria-labelledby={titleId}>
      <h2 id={titleId}>{editing ? t('canned.edit.title', { title: editing.title }) : t('canned.new.title')}</h2>
      <Form method="post" {...getFormProps(form)} noValidate>
        <FormErrors id={form.errorId} errors={form.errors} />
        <input type="hidden" name="intent" value={editing ? 'update' : 'create'} />
        {editing ? <input type="hidden" name="id" value={editing.id} /> : null}
        <Field id={fields.title.id} label={t('canned.field.title')} help={t('canned.field.title.help')} errors={fields.title.errors}>
          {(aria) => <input {...getInputProps(fields.title, { type: 'text' })} {...aria} maxLength={120} />}
        </Field>
        <Field id={fields.language.id} label={t('canned.field.language')} errors={fields.language.errors}>
          {(aria) => (
            <select {...getSelectProps(fields.language)} {...aria}>
              {LANGUAGES.map((l) => (
                <option key={l} value={l} lang={l}>
                  {t(`lang.${l}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id={fields.body.id} label={t('canned.field.body')} help={t('canned.field.body.help')} errors={fields.body.errors}>
          {(aria) => <textarea {...getTextareaProps(fields.body)} {...aria} rows={10} />}
        </Field>
        <button type="submit" className="primary">
          {editing ? t('canned.save') : t('canned.create')}
        </button>{' '}
        {editing ? <Link to="/helpdesk/canned">{t('canned.cancel')}</Link> : null}
      </Form>
    </section>
  )
}

export default function CannedReplies() {
  const { replies, variables, timeZone, editing } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>() as ActionResult | undefined
  const t = useT()
  return (
    <>
      <p>
        <Link to="/helpdesk">{t('canned.back')}</Link>
      </p>
      <h1>{t('canned.title')}</h1>
      <p>{t('canned.intro')}</p>
      <dl className="canned-vars">
        {variables.map((v) => (
          <div key={v}>
            <dt>
              <code>{`{{${v}}}`}</code>
            </dt>
            <dd>{t(`canned.var.${v}`)}</dd>
          </div>
        ))}
      </dl>
      <p className="help">{t('canned.unknownVar')}</p>
      <ActionNotice result={result} />
      {editing ? <CannedForm key={editing.id} result={result?.save} /> : null}
      <section className="panel" aria-labelledby="canned-list-title">
        <h2 id="canned-list-title">{t('canned.list.title')}</h2>
        {replies.length === 0 ? (
          <p>{t('canned.none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('canned.col.title')}</th>
                <th scope="col">{t('canned.col.language')}</th>
                <th scope="col">{t('canned.col.updated')}</th>
                <th scope="col">{t('canned.col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {replies.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    {r.title}
                    <p className="canned-body">{r.body}</p>
                  </th>
                  <td>{t(r.language === 'en' ? 'lang.en' : 'lang.nl')}</td>
                  <td>
                    <When iso={r.updatedAt} timeZone={timeZone} />
                    {r.by ? (
                      <>
                        <br />
                        <span className="muted">{t('canned.by', { name: r.by })}</span>
                      </>
                    ) : null}
                  </td>
                  <td className="actions">
                    <Link to={`/helpdesk/canned?edit=${r.id}`} className="button" aria-label={t('canned.editLabel', { title: r.title })}>
                      {t('canned.edit')}
                    </Link>
                    <ButtonForm
                      schema={deleteSchema}
                      id={`delete-canned-${r.id}`}
                      fields={{ intent: 'delete', id: r.id }}
                      buttonClassName="danger"
                      label={t('canned.delete')}
                      ariaLabel={t('canned.deleteLabel', { title: r.title })}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {editing ? null : <CannedForm key="new" result={result?.save} />}
    </>
  )
}
