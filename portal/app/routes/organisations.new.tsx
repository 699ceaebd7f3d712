import { getFormProps, getInputProps } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, useActionData } from '@remix-run/react'
import { Field, FormErrors } from '~/components/field'
import { OrganizationFields } from '~/components/organization-fields'
import { requireUser } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { organizationSchema } from '~/utils/forms'
import { createOrganization, OrganizationError } from '~/utils/organizations.server'
import { useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'

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
    const field = error.key === 'org.error.slugTaken' ? 'slug' : error.key === 'org.error.nameTaken' ? 'name' : null
    const reply = field ? submission.reply({ fieldErrors: { [field]: [error.key] } }) : submission.reply({ formErrors: [error.key] })
    return data(reply, { status: field ? 409 : 503 })
  }
}

export default function NewOrganisation() {
  const lastResult = useActionData<typeof action>()
  const t = useT()
  const [form, fields] = useZodForm(organizationSchema, { lastResult })
  return (
    <section className="panel narrow" aria-labelledby="new-title">
      <h1 id="new-title">{t('org.new.title')}</h1>
      <p>{t('org.new.intro')}</p>
      <Form method="post" {...getFormProps(form)} noValidate>
        <FormErrors id={form.errorId} errors={form.errors} />
        <OrganizationFields
          fields={fields}
          afterName={
            <Field id={fields.slug.id} label={t('org.field.slug')} help={t('org.field.slug.help')} errors={fields.slug.errors}>
              {(aria) => <input {...getInputProps(fields.slug, { type: 'text' })} {...aria} spellCheck={false} />}
            </Field>
          }
        />
        <button type="submit" className="primary">
          {t('org.create')}
        </button>
      </Form>
    </section>
  )
}
