import { useT } from '~/utils/use-t'

export interface CertificatePrintView {
  code: string
  holderName: string
  courseTitle: string
  date: string
  dateTime: string
  versionNumber: number
  revoked: boolean
  revokedDate: string | null
  verifyUrl: string
}

/** The certificate as printed: only what is on it, nothing else about the holder. */
export function CertificateSheet({ certificate }: { certificate: CertificatePrintView }) {
  const t = useT()
  return (
    <article className={certificate.revoked ? 'academy-certificate revoked' : 'academy-certificate'} aria-labelledby="certificate-title">
      <p className="academy-certificate-issuer">Commons Portal</p>
      <h1 id="certificate-title">{t('academy.certificate.title')}</h1>
      {certificate.revoked ? (
        <div className="notice error" role="alert">
          <strong>{t('academy.certificate.revoked', { date: certificate.revokedDate ?? '' })}</strong>
        </div>
      ) : (
        <p className="academy-certificate-valid" role="status">
          <span aria-hidden="true">✓</span> {t('academy.certificate.valid')}
        </p>
      )}
      <p className="academy-certificate-statement">{t('academy.certificate.statement', { name: certificate.holderName, course: certificate.courseTitle })}</p>
      <dl>
        <dt>{t('academy.certificate.holder')}</dt>
        <dd>{certificate.holderName}</dd>
        <dt>{t('academy.certificate.course')}</dt>
        <dd>{certificate.courseTitle}</dd>
        <dt>{t('academy.certificate.date')}</dt>
        <dd>
          <time dateTime={certificate.dateTime}>{certificate.date}</time>
        </dd>
        <dt>{t('academy.certificate.version')}</dt>
        <dd>{certificate.versionNumber}</dd>
        <dt>{t('academy.certificate.issuer')}</dt>
        <dd>Commons Portal</dd>
        <dt>{t('academy.certificate.code')}</dt>
        <dd>
          <code>{certificate.code}</code>
        </dd>
      </dl>
      <p className="academy-certificate-verify">{t('academy.certificate.verify', { link: certificate.verifyUrl })}</p>
    </article>
  )
}

/** A print button for those with JavaScript, and the browser's own command for everyone. */
export function PrintButton() {
  const t = useT()
  return (
    <div className="academy-print no-print">
      <button type="button" onClick={() => window.print()}>
        {t('academy.certificate.print')}
      </button>
      <p className="help">{t('academy.certificate.printHelp')}</p>
    </div>
  )
}
