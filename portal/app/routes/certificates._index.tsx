import { getFormProps, getInputProps } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { Field, FormErrors } from '~/components/field'
import academyStylesUrl from '~/styles/academy.css?url'
import { certificateLookupSchema, normaliseCertificateCode } from '~/utils/academy/learning-forms'
import { getTranslator } from '~/utils/i18n.server'
import { useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: academyStylesUrl }]

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.pageTitle ?? 'Certificate'} · Commons Portal` }, { name: 'robots', content: 'noindex' }]

/** Public: anyone handed a certificate checks its code here, without signing in. */
export async function loader({ request }: LoaderFunctionArgs) {
  const { t } = await getTranslator(request)
  return { pageTitle: t('academy.certificate.lookup.title') }
}

export async function action({ request }: ActionFunctionArgs) {
  const submission = parseWithZod(await request.formData(), { schema: certificateLookupSchema })
  if (submission.status !== 'success') return data({ result: submission.reply() }, { status: 400 })
  return redirect(`/certificates/${normaliseCertificateCode(submission.value.code)}`)
}

export default function CertificateLookup() {
  const { pageTitle } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const t = useT()
  const [form, fields] = useZodForm(certificateLookupSchema, { lastResult: actionData?.result })
  return (
    <section className="panel narrow" aria-labelledby="lookup-title">
      <h1 id="lookup-title">{pageTitle}</h1>
      <p>{t('academy.certificate.lookup.intro')}</p>
      <Form method="post" {...getFormProps(form)} noValidate>
        <FormErrors id={form.errorId} errors={form.errors} />
        <Field id={fields.code.id} label={t('academy.certificate.lookup.label')} help={t('academy.certificate.lookup.help')} errors={fields.code.errors}>
          {(aria) => (
            <input {...getInputProps(fields.code, { type: 'text' })} {...aria} autoComplete="off" autoCapitalize="characters" spellCheck={false} className="academy-code-input" />
          )}
        </Field>
        <button type="submit" className="primary">
          {t('academy.certificate.lookup.submit')}
        </button>
      </Form>
    </section>
  )
}
