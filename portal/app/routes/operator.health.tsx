import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { requireRole } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { formatDateTime } from '~/utils/format'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { logger } from '~/utils/logger.server'
import { provisioner, ProvisionerProtocolError, ProvisionerRefused, ProvisionerUnavailable } from '~/utils/provisioner.server'
import { useLanguage, useT } from '~/utils/use-t'

export const meta: MetaFunction = () => [{ title: 'Platform health · Commons Portal' }]

/** Which organisation and tool a problem is about, with the names the portal knows them by. */
type Place = { key: string; org: { name: string; slug: string } | null; organizationId: string; instanceId: string; tool: string }

/**
 * What operators must look at: whether backups are set up and work, the
 * backups that failed or failed their check, and the running tools without
 * a recent backup — from the provisioner, with the portal's names added.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, 'platform-operator')
  const { lang } = await getTranslator(request)
  try {
    const problems = await provisioner().backupProblems()
    const all = [...problems.failedBackups, ...problems.failedVerifications, ...problems.overdue]
    const organizations = await db().organization.findMany({
      where: { id: { in: [...new Set(all.map((p) => p.organizationId))] } },
      select: { id: true, name: true, slug: true },
    })
    const known = new Map(organizations.map((o) => [o.id, { name: o.name, slug: o.slug }]))
    const place = (key: string, p: { organizationId: string; instanceId: string; recipe: string }): Place => ({
      key,
      org: known.get(p.organizationId) ?? null,
      organizationId: p.organizationId,
      instanceId: p.instanceId,
      tool: toolName(p.recipe, lang),
    })
    return {
      state: 'answered' as const,
      configured: problems.configured,
      repositoryError: problems.repositoryError,
      failed: problems.failedBackups.map((b) => ({ ...place(b.id, b), at: b.startedAt, message: b.error })),
      checks: problems.failedVerifications.map((b) => ({ ...place(b.id, b), at: b.startedAt, message: b.verification.message })),
      overdue: problems.overdue.map((o) => ({ ...place(o.instanceId, o), lastBackupAt: o.lastBackupAt })),
    }
  } catch (error) {
    if (error instanceof ProvisionerUnavailable) return { state: 'unreachable' as const }
    if (error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) {
      logger.warn({ err: error }, 'could not read the backup problems from the provisioner')
      return { state: 'unreadable' as const, detail: error.message }
    }
    throw error
  }
}

function Where({ place }: { place: Place }) {
  const t = useT()
  return (
    <>
      <td>{place.org ? <Link to={`/organisations/${place.org.slug}`}>{place.org.name}</Link> : t('operator.health.unknownOrg', { id: place.organizationId })}</td>
      <td>{place.org ? <Link to={`/organisations/${place.org.slug}/instances/${place.instanceId}`}>{place.tool}</Link> : `${place.tool} (${place.instanceId})`}</td>
    </>
  )
}

function ProblemTable({ id, title, none, rows }: { id: string; title: string; none: string; rows: (Place & { at: string; message: string | null })[] }) {
  const t = useT()
  const lang = useLanguage()
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {rows.length === 0 ? (
        <p>{none}</p>
      ) : (
        <table aria-labelledby={id}>
          <thead>
            <tr>
              <th scope="col">{t('operator.col.org')}</th>
              <th scope="col">{t('operator.col.tool')}</th>
              <th scope="col">{t('operator.health.col.when')}</th>
              <th scope="col">{t('operator.health.col.problem')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <Where place={r} />
                <td>{formatDateTime(r.at, lang)}</td>
                <td>{r.message ?? t('operator.health.noReason')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

export default function OperatorHealth() {
  const health = useLoaderData<typeof loader>()
  const t = useT()
  const lang = useLanguage()
  if (health.state !== 'answered') {
    return (
      <>
        <h1>{t('operator.health.title')}</h1>
        <p className="notice error" role="status">
          {health.state === 'unreachable' ? t('operator.health.unreachable') : t('operator.health.unreadable', { detail: health.detail })}
        </p>
      </>
    )
  }
  const allGood = health.configured && !health.repositoryError && health.failed.length + health.checks.length + health.overdue.length === 0
  return (
    <>
      <h1>{t('operator.health.title')}</h1>
      <section className="panel" aria-labelledby="backups-title">
        <h2 id="backups-title">{t('operator.health.backups.title')}</h2>
        <p className={health.configured ? undefined : 'notice error'}>{t(health.configured ? 'operator.health.configured' : 'operator.health.notConfigured')}</p>
        {health.configured ? (
          <p className={health.repositoryError ? 'notice error' : undefined}>
            {health.repositoryError ? t('operator.health.repositoryError', { error: health.repositoryError }) : t('operator.health.repositoryOk')}
          </p>
        ) : null}
        {allGood ? <p>{t('operator.health.allGood')}</p> : null}
      </section>
      <ProblemTable id="failed-title" title={t('operator.health.failed.title')} none={t('operator.health.failed.none')} rows={health.failed} />
      <ProblemTable id="checks-title" title={t('operator.health.checks.title')} none={t('operator.health.checks.none')} rows={health.checks} />
      <section className="panel" aria-labelledby="overdue-title">
        <h2 id="overdue-title">{t('operator.health.overdue.title')}</h2>
        {health.overdue.length === 0 ? (
          <p>{t('operator.health.overdue.none')}</p>
        ) : (
          <table aria-labelledby="overdue-title">
            <thead>
              <tr>
                <th scope="col">{t('operator.col.org')}</th>
                <th scope="col">{t('operator.col.tool')}</th>
                <th scope="col">{t('operator.health.col.lastBackup')}</th>
              </tr>
            </thead>
            <tbody>
              {health.overdue.map((o) => (
                <tr key={o.key}>
                  <Where place={o} />
                  <td>{o.lastBackupAt ? formatDateTime(o.lastBackupAt, lang) : t('operator.health.overdue.never')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  )
}
