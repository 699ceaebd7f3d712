import { getFormProps } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { FormErrors } from '~/components/field'
import { OrganizationFields } from '~/components/organization-fields'
import { organizationDetailsSchema } from '~/utils/forms'
import { getTranslator } from '~/utils/i18n.server'
import { OrganizationError, updateOrganization } from '~/utils/organizations.server'
import { requireOrgAdmin } from '~/utils/permissions.server'
import { useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'

/** An admin changes the organisation's details (not its slug). */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { organization } = await requireOrgAdmin(request, params.slug)
  const { name, slug, description, sector, city, website, kvkNumber } = organization
  return { organization: { name, slug, description, sector, city, website: website ?? '', kvkNumber: kvkNumber ?? '' } }
}

export async function action({ request, params }: ActionFunctionArgs) {
  const { session, organization } = await requireOrgAdmin(request, params.slug)
  const { t } = await getTranslator(request)
  const submission = parseWithZod(await request.formData(), { schema: organizationDetailsSchema })
  if (submission.status !== 'success') return data({ result: submission.reply(), notice: null }, { status: 400 })
  try {
    await updateOrganization(session.userId, organization, submission.value)
  } catch (error) {
    if (!(error instanceof OrganizationError)) throw error
    const reply =
      error.key === 'org.error.nameTaken' ? submission.reply({ fieldErrors: { name: [error.key] } }) : submission.reply({ formErrors: [error.key] })
    return data({ result: reply, notice: null }, { status: error.key === 'org.error.nameTaken' ? 409 : 503 })
  }
  return data({ result: submission.reply(), notice: t('org.changed') })
}

export default function OrganisationSettings() {
  const { organization } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const t = useT()
  const [form, fields] = useZodForm(organizationDetailsSchema, { lastResult: actionData?.result, defaultValue: organization })
  return (
    <section className="panel narrow" aria-labelledby="settings-title">
      <h1 id="settings-title">{t('org.settings.title', { org: organization.name })}</h1>
      {actionData?.notice ? (
        <div className="notice" role="status">
          {actionData.notice}
        </div>
      ) : null}
      <Form method="post" {...getFormProps(form)} noValidate>
        <FormErrors id={form.errorId} errors={form.errors} />
        <OrganizationFields fields={fields} />
        <button type="submit" className="primary">
          {t('org.settings.save')}
        </button>{' '}
        <Link to={`/organisations/${organization.slug}`}>{t('org.settings.back', { org: organization.name })}</Link>
      </Form>
    </section>
  )
}
