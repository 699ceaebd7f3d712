import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { requireRole } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { formatBytes, formatDateTime } from '~/utils/format'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { logger } from '~/utils/logger.server'
import { provisioner, ProvisionerProtocolError, ProvisionerRefused, ProvisionerUnavailable } from '~/utils/provisioner.server'
import { PhaseBadge } from '~/components/tools'
import { stepLabel } from '~/utils/steps'
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
  const [backups, platform] = await Promise.all([backupHealth(lang), platformHealth(lang)])
  return { ...backups, platform }
}

type Lang = Awaited<ReturnType<typeof getTranslator>>['lang']

async function namesOf(organizationIds: string[]) {
  const organizations = await db().organization.findMany({ where: { id: { in: [...new Set(organizationIds)] } }, select: { id: true, name: true, slug: true } })
  return new Map(organizations.map((o) => [o.id, { name: o.name, slug: o.slug }]))
}

/** Hosts, tools by phase, failed tools and the steps that failed lately; answered apart from the backups, so one can show when the other cannot. */
async function platformHealth(lang: Lang) {
  try {
    const overview = await provisioner().overview()
    const known = await namesOf(overview.failed.map((f) => f.organizationId))
    const instances = await db().instance.findMany({
      where: { id: { in: overview.recentFailures.map((f) => f.instanceId) } },
      select: { id: true, recipeId: true, organization: { select: { name: true, slug: true } } },
    })
    const byId = new Map(instances.map((i) => [i.id, i]))
    return {
      state: 'answered' as const,
      hosts: overview.hosts,
      phases: Object.entries(overview.phases).sort(([a], [b]) => a.localeCompare(b)),
      failed: overview.failed.map((f) => ({
        key: f.instanceId,
        org: known.get(f.organizationId) ?? null,
        organizationId: f.organizationId,
        instanceId: f.instanceId,
        tool: toolName(f.recipe, lang),
        step: f.step,
        message: f.message,
        since: f.since,
      })),
      recent: overview.recentFailures.map((f, i) => {
        const instance = byId.get(f.instanceId)
        return { key: `${f.instanceId}-${i}`, ...f, tool: instance ? toolName(instance.recipeId, lang) : f.instanceId, org: instance?.organization ?? null }
      }),
      lastSweepAt: overview.lastSweepAt,
    }
  } catch (error) {
    if (error instanceof ProvisionerUnavailable) return { state: 'unreachable' as const }
    if (error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) {
      logger.warn({ err: error }, 'could not read the platform overview from the provisioner')
      return { state: 'unreadable' as const, detail: error.message }
    }
    throw error
  }
}

async function backupHealth(lang: Lang) {
  try {
    const problems = await provisioner().backupProblems()
    const all = [...problems.failedBackups, ...problems.failedVerifications, ...problems.overdue]
    const known = await namesOf(all.map((p) => p.organizationId))
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

function Platform({ platform }: { platform: Awaited<ReturnType<typeof platformHealth>> }) {
  const t = useT()
  const lang = useLanguage()
  if (platform.state !== 'answered') {
    return (
      <p className="notice error" role="status">
        {platform.state === 'unreachable' ? t('operator.health.platform.unreachable') : t('operator.health.platform.unreadable', { detail: platform.detail })}
      </p>
    )
  }
  return (
    <>
      <section className="panel" aria-labelledby="hosts-title">
        <h2 id="hosts-title">{t('operator.health.hosts.title')}</h2>
        <table aria-labelledby="hosts-title">
          <thead>
            <tr>
              <th scope="col">{t('operator.health.hosts.col.name')}</th>
              <th scope="col">{t('operator.health.hosts.col.state')}</th>
              <th scope="col">{t('operator.health.hosts.col.system')}</th>
              <th scope="col">{t('operator.health.hosts.col.capacity')}</th>
              <th scope="col">{t('operator.health.hosts.col.containers')}</th>
              <th scope="col">{t('operator.health.hosts.col.swarm')}</th>
            </tr>
          </thead>
          <tbody>
            {platform.hosts.map((h) => (
              <tr key={h.name}>
                <td>{h.name}</td>
                <td>{h.reachable ? t('operator.health.hosts.reachable') : `${t('operator.health.hosts.unreachable')}: ${h.error ?? ''}`}</td>
                <td>{h.reachable ? t('operator.health.hosts.system', { os: h.operatingSystem, engine: h.engineVersion }) : '—'}</td>
                <td>{h.reachable ? t('operator.health.hosts.capacity', { cpus: h.cpus, memory: formatBytes(h.memoryBytes, lang) }) : '—'}</td>
                <td>{h.reachable ? t('operator.health.hosts.containers', { running: h.containersRunning, stopped: h.containersStopped }) : '—'}</td>
                <td>{h.swarm}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>{platform.lastSweepAt ? t('operator.health.lastSweep', { at: formatDateTime(platform.lastSweepAt, lang) }) : t('operator.health.noSweep')}</p>
      </section>
      <section className="panel" aria-labelledby="phases-title">
        <h2 id="phases-title">{t('operator.health.phases.title')}</h2>
        {platform.phases.length === 0 ? (
          <p>{t('operator.health.phases.none')}</p>
        ) : (
          <ul>
            {platform.phases.map(([phase, count]) => (
              <li key={phase}>
                <PhaseBadge phase={phase} />: {count}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="panel" aria-labelledby="failed-tools-title">
        <h2 id="failed-tools-title">{t('operator.health.failedTools.title')}</h2>
        {platform.failed.length === 0 ? (
          <p>{t('operator.health.failedTools.none')}</p>
        ) : (
          <table aria-labelledby="failed-tools-title">
            <thead>
              <tr>
                <th scope="col">{t('operator.col.org')}</th>
                <th scope="col">{t('operator.col.tool')}</th>
                <th scope="col">{t('operator.health.col.step')}</th>
                <th scope="col">{t('operator.health.col.problem')}</th>
                <th scope="col">{t('operator.health.col.since')}</th>
              </tr>
            </thead>
            <tbody>
              {platform.failed.map((f) => (
                <tr key={f.key}>
                  <Where place={f} />
                  <td>{stepLabel(f.step, t)}</td>
                  <td>{f.message || t('operator.health.noReason')}</td>
                  <td>{formatDateTime(f.since, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="panel" aria-labelledby="recent-title">
        <h2 id="recent-title">{t('operator.health.recent.title')}</h2>
        {platform.recent.length === 0 ? (
          <p>{t('operator.health.recent.none')}</p>
        ) : (
          <table aria-labelledby="recent-title">
            <thead>
              <tr>
                <th scope="col">{t('operator.health.col.when')}</th>
                <th scope="col">{t('operator.col.tool')}</th>
                <th scope="col">{t('operator.health.col.step')}</th>
                <th scope="col">{t('operator.health.col.outcome')}</th>
                <th scope="col">{t('operator.health.col.detail')}</th>
              </tr>
            </thead>
            <tbody>
              {platform.recent.map((f) => (
                <tr key={f.key}>
                  <td>{formatDateTime(f.at, lang)}</td>
                  <td>{f.org ? `${f.tool} (${f.org.name})` : f.tool}</td>
                  <td>{stepLabel(f.step, t)}</td>
                  <td>{t(f.status === 'failed' ? 'operator.health.recent.failed' : 'operator.health.recent.retrying')}</td>
                  <td>{f.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
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
        <Platform platform={health.platform} />
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
      <Platform platform={health.platform} />
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
