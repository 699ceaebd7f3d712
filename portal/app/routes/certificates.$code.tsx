import { textIn } from '@commons/academy/rules'
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { CertificateSheet, PrintButton } from '~/components/academy-certificate'
import academyStylesUrl from '~/styles/academy.css?url'
import { findCertificate, normaliseCertificateCode } from '~/utils/academy/certificates.server'
import { env } from '~/utils/env.server'
import { getTranslator } from '~/utils/i18n.server'
import { useT } from '~/utils/use-t'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: academyStylesUrl }]

// A certificate page names a person: it is for those handed the link, not for search engines.
export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.pageTitle ?? 'Certificate'} · Commons Portal` }, { name: 'robots', content: 'noindex' }]

/**
 * Public, no sign-in: the printable certificate, which is its verification as
 * well. Shows only what is printed on it. A code typed another way (small
 * letters, no dashes) goes to its proper address; an unknown one answers 404
 * with a page that helps to check the code.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { lang, t } = await getTranslator(request)
  const typed = params.code ?? ''
  const code = normaliseCertificateCode(typed)
  if (code && code !== typed) throw redirect(`/certificates/${code}`)
  const found = code ? await findCertificate(code) : null
  if (!found) {
    return data({ pageTitle: t('academy.certificate.unknown.title'), unknown: typed.slice(0, 40), certificate: null }, { status: 404 })
  }
  const locale = lang === 'nl' ? 'nl-NL' : 'en-GB'
  const date = (d: Date) => new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: env().HELPDESK_TIMEZONE }).format(d)
  return {
    pageTitle: t('academy.certificate.title'),
    unknown: null,
    certificate: {
      code: found.code,
      holderName: found.holderName,
      courseTitle: textIn(found.courseTitle, lang),
      date: date(found.issuedAt),
      dateTime: found.issuedAt.toISOString().slice(0, 10),
      versionNumber: found.versionNumber,
      revoked: found.revoked,
      revokedDate: found.revokedAt ? date(found.revokedAt) : null,
      verifyUrl: `${env().PORTAL_URL}/certificates`,
    },
  }
}

export default function CertificatePage() {
  const { certificate, unknown } = useLoaderData<typeof loader>()
  const t = useT()
  if (!certificate) {
    return (
      <section className="panel narrow" aria-labelledby="unknown-title">
        <h1 id="unknown-title">{t('academy.certificate.unknown.title')}</h1>
        <p role="alert">{t('academy.certificate.unknown.body', { code: unknown ?? '' })}</p>
        <p>
          <Link className="button primary" to="/certificates">
            {t('academy.certificate.checkAnother')}
          </Link>
        </p>
      </section>
    )
  }
  return (
    <div className="academy-certificate-page">
      <CertificateSheet certificate={certificate} />
      {certificate.revoked ? null : <PrintButton />}
      <p className="no-print">
        <Link to="/certificates">{t('academy.certificate.checkAnother')}</Link>
      </p>
    </div>
  )
}
