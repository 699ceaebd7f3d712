import { getFormProps, getInputProps, getSelectProps, getTextareaProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, useActionData } from '@remix-run/react'
import { Field } from '~/components/field'
import { requireUser } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { organizationSchema, SECTORS } from '~/utils/forms'
import type { MessageKey } from '~/utils/i18n'
import { createOrganization, OrganizationError } from '~/utils/organizations.server'
import { useT } from '~/utils/use-t'

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request)
  return null
}

export async function action({ request }: ActionFunctionArgs) {
  const session = await requireUser(request)
  const submission = parseWithZod(await request.formData(), { schema: organizationSchema })
  if (submission.status !== 'success') return data(submission.reply(), { status: 400 })
  try {
    const organization = await createOrganization(session.userId, session.user.keycloakId, submission.value)
    await db().session.update({ where: { id: session.id }, data: { activeOrganizationId: organization.id } })
    return redirect(`/organisations/${organization.slug}`)
  } catch (error) {
    if (!(error instanceof OrganizationError)) throw error
    const reply =
      error.key === 'org.error.slugTaken'
        ? submission.reply({ fieldErrors: { slug: [error.key] } })
        : submission.reply({ formErrors: [error.key] })
    return data(reply, { status: error.key === 'org.error.slugTaken' ? 409 : 503 })
  }
}

export default function NewOrganisation() {
  const lastResult = useActionData<typeof action>()
  const t = useT()
  const [form, fields] = useForm({
    lastResult,
    constraint: getZodConstraint(organizationSchema),
    shouldValidate: 'onSubmit',
    shouldRevalidate: 'onInput',
    onValidate: ({ formData }) => parseWithZod(formData, { schema: organizationSchema }),
  })
  return (
    <section className="panel narrow" aria-labelledby="new-title">
      <h1 id="new-title">{t('org.new.title')}</h1>
      <p>{t('org.new.intro')}</p>
      <Form method="post" {...getFormProps(form)} noValidate>
        {form.errors?.length ? (
          <div className="notice error" role="alert" id={form.errorId}>
            {form.errors.map((e) => (
              <p key={e}>{t(e as MessageKey)}</p>
            ))}
          </div>
        ) : null}
        <Field id={fields.name.id} label={t('org.field.name')} errors={fields.name.errors}>
          {(aria) => <input {...getInputProps(fields.name, { type: 'text' })} {...aria} autoComplete="organization" />}
        </Field>
        <Field id={fields.slug.id} label={t('org.field.slug')} help={t('org.field.slug.help')} errors={fields.slug.errors}>
          {(aria) => <input {...getInputProps(fields.slug, { type: 'text' })} {...aria} spellCheck={false} />}
        </Field>
        <Field id={fields.description.id} label={t('org.field.description')} errors={fields.description.errors}>
          {(aria) => <textarea {...getTextareaProps(fields.description)} {...aria} rows={4} />}
        </Field>
        <Field id={fields.sector.id} label={t('org.field.sector')} errors={fields.sector.errors}>
          {(aria) => (
            <select {...getSelectProps(fields.sector)} {...aria}>
              <option value="">—</option>
              {SECTORS.map((s) => (
                <option key={s} value={s}>
                  {t(`org.sector.${s}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id={fields.city.id} label={t('org.field.city')} errors={fields.city.errors}>
          {(aria) => <input {...getInputProps(fields.city, { type: 'text' })} {...aria} autoComplete="address-level2" />}
        </Field>
        <Field id={fields.website.id} label={t('org.field.website')} errors={fields.website.errors}>
          {(aria) => <input {...getInputProps(fields.website, { type: 'url' })} {...aria} placeholder="https://" />}
        </Field>
        <Field id={fields.kvkNumber.id} label={t('org.field.kvk')} errors={fields.kvkNumber.errors}>
          {(aria) => <input {...getInputProps(fields.kvkNumber, { type: 'text' })} {...aria} inputMode="numeric" />}
        </Field>
        <button type="submit" className="primary">
          {t('org.create')}
        </button>
      </Form>
    </section>
  )
}
