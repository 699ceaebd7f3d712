import { getFormProps, getInputProps, type SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useRevalidator } from '@remix-run/react'
import { useEffect, useState } from 'react'
import { BackupsSection, type RestoreResult } from '~/components/backups'
import { FieldErrors, FormErrors } from '~/components/field'
import { InstanceActions, PhaseBadge } from '~/components/tools'
import { UpgradesSection, UpgradingNotice } from '~/components/upgrades'
import { hasRole } from '~/utils/auth.server'
import { backupsForPage, requestBackup, restoreBackup, type PageBackups } from '~/utils/backups.server'
import { env } from '~/utils/env.server'
import { formatDateTime } from '~/utils/format'
import type { MessageKey } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { InstanceError, instanceOf, recordObservation, restartInstance, setDesiredState, toolName } from '~/utils/instances.server'
import { logger } from '~/utils/logger.server'
import { requireOrgAccess, requireOrgAdmin } from '~/utils/permissions.server'
import {
  provisioner,
  ProvisionerProtocolError,
  ProvisionerRefused,
  ProvisionerUnavailable,
  type InstanceEvent,
  type LogsView,
} from '~/utils/provisioner.server'
import { stepLabel } from '~/utils/steps'
import { backupNowSchema, instanceActionSchema, removeInstanceSchema, restoreBackupSchema } from '~/utils/tool-forms'
import { upgradesForPage, type PageUpgrades } from '~/utils/upgrades.server'
import { useLanguage, useT } from '~/utils/use-t'
import { useZodForm } from '~/utils/use-zod-form'
import { ActionNotice } from '~/components/action-notice'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.instance.tool} · ${data.organization.name} · Commons Portal` : 'Commons Portal' }]

/**
 * One instance: its state and version, what went wrong, the live progress,
 * and for its organisation's admins the actions, the backups, the upgrades
 * and the data export; helpdesk agents and operators also see recent logs
 * and the upgrades. The id must belong to the organisation in
 * the URL (404 otherwise).
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { session, organization, isAdmin, membership } = await requireOrgAccess(request, params.slug)
  const { lang } = await getTranslator(request)
  const found = await instanceOf(organization.id, params.id)
  const staff = hasRole(session, 'platform-operator') || hasRole(session, 'helpdesk-agent')
  const client = provisioner()
  let reachable = true
  let events: InstanceEvent[] = []
  let logs: LogsView | null = null
  let version: string | null = null
  try {
    const view = await client.getInstance(found.id)
    if (view) {
      version = view.recipeVersion
      await recordObservation(found.id, view, client)
      events = await client.events(found.id)
      if (staff) logs = await client.logs(found.id, 100)
    }
  } catch (error) {
    if (error instanceof ProvisionerUnavailable) reachable = false
    else if (error instanceof ProvisionerRefused || error instanceof ProvisionerProtocolError) {
      logger.warn({ err: error, instanceId: found.id }, 'could not read the instance from the provisioner')
      reachable = false
    } else throw error
  }
  const instance = await instanceOf(organization.id, found.id)
  // Backups are the admins' business; of a removed instance there is nothing to do with them here.
  const backups: PageBackups | null = isAdmin && instance.phase !== null && !instance.removedAt ? await backupsForPage(instance, client) : null
  // The history for those who look after the tool; while upgrading, everyone reads from which version to which.
  const live = reachable && instance.phase !== null && !instance.removedAt
  const upgrades: PageUpgrades | null = live && (isAdmin || staff || instance.phase === 'upgrading') ? await upgradesForPage(instance.id, client) : null
  return {
    organization: { slug: organization.slug, name: organization.name },
    instance: {
      id: instance.id,
      tool: toolName(instance.recipeId, lang),
      recipeId: instance.recipeId,
      phase: instance.phase,
      version,
      desiredState: instance.desiredState,
      url: instance.url,
      failure: instance.failureStep ? { step: instance.failureStep, message: instance.failureMessage ?? '' } : null,
      createdAt: instance.createdAt.toISOString(),
      removed: instance.removedAt !== null,
      purgeAt: instance.purgeAt?.toISOString() ?? null,
    },
    reachable,
    events,
    logs,
    backups,
    upgrades,
    staff,
    isAdmin,
    isMember: Boolean(membership),
    retentionDays: env().REMOVED_VOLUME_GRACE_DAYS,
  }
}

type ActionResult = { notice?: string; error?: string; remove?: SubmissionResult<string[]>; restore?: RestoreResult }

export async function action({ request, params }: ActionFunctionArgs) {
  const { session, organization } = await requireOrgAdmin(request, params.slug)
  const { lang, t } = await getTranslator(request)
  const instance = await instanceOf(organization.id, params.id)
  const tool = toolName(instance.recipeId, lang)
  const actor = { userId: session.userId }
  const formData = await request.formData()
  const intent = formData.get('intent')
  try {
    if (intent === 'backup') {
      const submission = parseWithZod(formData, { schema: backupNowSchema })
      if (submission.status !== 'success') return data<ActionResult>({ error: t('error.400') }, { status: 400 })
      await requestBackup(actor, organization, instance.id)
      return data<ActionResult>({ notice: t('instance.backups.requested', { tool }) })
    }
    if (intent === 'restore') {
      // Checked before anything reaches the provisioner: an unticked box or a forged id goes no further.
      const submission = parseWithZod(formData, { schema: restoreBackupSchema })
      if (submission.status !== 'success') {
        return data<ActionResult>({ restore: { backupId: String(formData.get('backupId') ?? ''), reply: submission.reply() } }, { status: 400 })
      }
      const { backup } = await restoreBackup(actor, organization, instance.id, submission.value.backupId)
      return data<ActionResult>({ notice: t('instance.backups.restore.started', { tool, date: formatDateTime(backup.startedAt, lang) }) })
    }
    if (intent === 'remove') {
      const submission = parseWithZod(formData, { schema: removeInstanceSchema })
      if (submission.status !== 'success') return data<ActionResult>({ remove: submission.reply() }, { status: 400 })
      const delivery = await setDesiredState(actor, organization, instance.id, 'REMOVED')
      if (delivery.outcome === 'refused') return data<ActionResult>({ error: t('provisioner.refused', { code: delivery.code }) }, { status: 502 })
      const notice = t('instance.removed', { tool, days: env().REMOVED_VOLUME_GRACE_DAYS })
      return data<ActionResult>({ notice: delivery.outcome === 'unavailable' ? `${notice} ${t('provisioner.savedForLater')}` : notice })
    }
    const submission = parseWithZod(formData, { schema: instanceActionSchema })
    if (submission.status !== 'success') return data<ActionResult>({ error: t('error.400') }, { status: 400 })
    if (submission.value.intent === 'restart') {
      await restartInstance(actor, organization, instance.id)
      return data<ActionResult>({ notice: t('instance.restarted', { tool }) })
    }
    const suspend = submission.value.intent === 'suspend'
    const delivery = await setDesiredState(actor, organization, instance.id, suspend ? 'SUSPENDED' : 'RUNNING')
    if (delivery.outcome === 'unavailable') return data<ActionResult>({ notice: t('provisioner.savedForLater') })
    if (delivery.outcome === 'refused') return data<ActionResult>({ error: t('provisioner.refused', { code: delivery.code }) }, { status: 502 })
    return data<ActionResult>({ notice: t(suspend ? 'instance.suspended' : 'instance.resumed', { tool }) })
  } catch (error) {
    if (error instanceof InstanceError) return data<ActionResult>({ error: t(error.key, error.vars) }, { status: error.status })
    if (error instanceof ProvisionerUnavailable) return data<ActionResult>({ error: t('provisioner.unavailable') }, { status: 503 })
    if (error instanceof ProvisionerRefused) return data<ActionResult>({ error: t('provisioner.refused', { code: error.code }) }, { status: 502 })
    throw error
  }
}

function formatTime(iso: string, lang: string) {
  return new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'short', timeStyle: 'medium', timeZone: 'Europe/Amsterdam' }).format(new Date(iso))
}

/**
 * The instance's events, followed live through the portal's relay of the
 * provisioner's stream (EventSource; the script is the page's own bundle, so
 * the CSP's nonce covers it). The server-rendered list works without it.
 */
function Progress({ slug, id, initial, reachable }: { slug: string; id: string; initial: InstanceEvent[]; reachable: boolean }) {
  const t = useT()
  const lang = useLanguage()
  const revalidator = useRevalidator()
  const [events, setEvents] = useState(initial)
  const [live, setLive] = useState<'connecting' | 'live' | 'offline'>(reachable ? 'connecting' : 'offline')
  // Fixed at the first render: later loader reloads must not restart the stream.
  const [after] = useState(initial.at(-1)?.seq ?? 0)

  useEffect(() => {
    const source = new EventSource(`/organisations/${slug}/instances/${id}/events?after=${after}`)
    source.addEventListener('connected', () => setLive('live'))
    source.addEventListener('unavailable', () => setLive('offline'))
    source.addEventListener('step', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as InstanceEvent
      setLive('live')
      setEvents((list) => (list.some((e) => e.seq === event.seq) ? list : [...list, event]))
      // The phase shown above, and the list of backups, change with these: read them again.
      const kind = event.step.split(':')[0]
      const settled = event.status === 'failed' || event.step === 'ready' || event.step === 'suspended' || event.step === 'removed'
      const backupMoved = (kind === 'backup' || kind === 'verify' || kind === 'restore') && event.status !== 'retrying'
      // An upgrade that starts or ends changes the phase, the version and the upgrades listed.
      const upgradeMoved = kind === 'upgrade'
      if (settled || backupMoved || upgradeMoved) revalidator.revalidate()
    })
    return () => source.close()
    // Reconnects are EventSource's own (with Last-Event-ID); the revalidator is a new object on every render.
  }, [slug, id, after])

  const latest = events.at(-1)
  return (
    <section className="panel" aria-labelledby="progress-title">
      <h2 id="progress-title">{t('instance.progress.title')}</h2>
      <p className={live === 'offline' ? 'notice error' : 'muted'}>{live === 'offline' ? t('instance.progress.offline') : t('instance.progress.live')}</p>
      <p aria-live="polite" className="latest">
        {latest ? `${stepLabel(latest.step, t)}: ${t(`step.status.${latest.status}` as MessageKey)}` : t('instance.progress.none')}
      </p>
      {events.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('instance.progress.time')}</th>
              <th scope="col">{t('instance.progress.step')}</th>
              <th scope="col">{t('instance.progress.status')}</th>
              <th scope="col">{t('instance.progress.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq} className={`event event-${e.status}`}>
                <td>{formatTime(e.at, lang)}</td>
                <td>{stepLabel(e.step, t)}</td>
                <td>{t(`step.status.${e.status}` as MessageKey)}</td>
                <td>
                  <code>{e.message}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}

function RemoveForm({ slug, id, tool, org, days, result }: { slug: string; id: string; tool: string; org: string; days: number; result: ActionResult['remove'] }) {
  const t = useT()
  const [form, fields] = useZodForm(removeInstanceSchema, { id: 'remove-form', lastResult: result })
  return (
    <section className="panel danger-zone" aria-labelledby="remove-title" id="remove">
      <h2 id="remove-title">{t('instance.remove.title', { tool })}</h2>
      <p>{t('instance.remove.explain', { tool, org, days })}</p>
      <p>
        <a href={`/organisations/${slug}/instances/${id}/export`}>{t('instance.remove.export')}</a>
      </p>
      <Form method="post" {...getFormProps(form)} noValidate>
        <FormErrors id={form.errorId} errors={form.errors} />
        <input type="hidden" name="intent" value="remove" />
        <div className="field checkbox">
          <input
            {...getInputProps(fields.confirm, { type: 'checkbox', value: 'on' })}
            aria-invalid={fields.confirm.errors ? true : undefined}
            aria-describedby={fields.confirm.errors ? `${fields.confirm.id}-error` : undefined}
          />
          <label htmlFor={fields.confirm.id}>{t('instance.remove.confirm', { tool, org })}</label>
          <FieldErrors id={`${fields.confirm.id}-error`} errors={fields.confirm.errors} />
        </div>
        <button type="submit" className="danger">
          {t('instance.remove.submit', { tool })}
        </button>
      </Form>
    </section>
  )
}

export default function InstancePage() {
  const { organization, instance, reachable, events, logs, backups, upgrades, staff, isAdmin, isMember, retentionDays } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>() as ActionResult | undefined
  const t = useT()
  const lang = useLanguage()
  const dateFormat = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'long', timeZone: 'Europe/Amsterdam' })
  const exportUrl = `/organisations/${organization.slug}/instances/${instance.id}/export`
  return (
    <>
      <p>
        <Link to={`/organisations/${organization.slug}`}>{t('instance.back', { org: organization.name })}</Link>
      </p>
      <h1>{t('instance.title', { tool: instance.tool, org: organization.name })}</h1>
      <ActionNotice result={result} />
      {isMember && !instance.removed ? (
        <p>
          <Link to={`/tickets/new?instance=${encodeURIComponent(instance.id)}`}>{t('instance.reportProblem', { tool: instance.tool })}</Link>
        </p>
      ) : null}
      {!reachable ? (
        <p className="notice error" role="status">
          {t('instance.unavailable')}
        </p>
      ) : null}
      <div className="grid">
        <section className="panel" aria-labelledby="state-title">
          <h2 id="state-title">{t('instance.state')}</h2>
          <p>
            <PhaseBadge phase={instance.phase} />
          </p>
          {instance.phase === null ? <p>{t('instance.waiting')}</p> : null}
          {instance.phase === 'restoring' ? (
            <p className="notice" role="status">
              {t('instance.restoring', { tool: instance.tool })}
            </p>
          ) : null}
          {instance.phase === 'upgrading' ? <UpgradingNotice tool={instance.tool} upgrades={upgrades} /> : null}
          <dl>
            <dt>{t('instance.address')}</dt>
            <dd>{instance.phase === 'ready' && instance.url ? <a href={instance.url}>{instance.url}</a> : t('instance.noAddress')}</dd>
            {instance.phase !== null && !instance.removed ? (
              <>
                <dt>{t('instance.version')}</dt>
                <dd>{instance.version ?? t('instance.version.unknown')}</dd>
              </>
            ) : null}
            <dt>{t('instance.requestedOn')}</dt>
            <dd>{dateFormat.format(new Date(instance.createdAt))}</dd>
          </dl>
          {instance.removed && instance.purgeAt ? <p>{t('instance.purgeAt', { date: dateFormat.format(new Date(instance.purgeAt)) })}</p> : null}
          {isAdmin && !instance.removed ? (
            <div className="actions">
              <InstanceActions slug={organization.slug} instance={instance} />
            </div>
          ) : null}
        </section>
        {instance.phase === 'failed' && instance.failure ? (
          <section className="panel" aria-labelledby="failure-title">
            <h2 id="failure-title">{t('instance.failure.title')}</h2>
            <p>{t('instance.failure.body', { step: stepLabel(instance.failure.step, t), message: instance.failure.message })}</p>
            <p>{t('instance.failure.help')}</p>
          </section>
        ) : null}
        {isAdmin && instance.phase !== null ? (
          <section className="panel" aria-labelledby="export-title">
            <h2 id="export-title">{t('instance.export.title')}</h2>
            <p>{t('instance.export.help', { tool: instance.tool })}</p>
            <p>
              <a href={exportUrl}>{t('instance.export.link', { tool: instance.tool })}</a>
            </p>
          </section>
        ) : null}
      </div>
      {backups ? (
        <BackupsSection slug={organization.slug} instanceId={instance.id} tool={instance.tool} phase={instance.phase} backups={backups} restore={result?.restore} />
      ) : null}
      {upgrades && (isAdmin || staff) ? <UpgradesSection tool={instance.tool} upgrades={upgrades} /> : null}
      <Progress slug={organization.slug} id={instance.id} initial={events} reachable={reachable} />
      {staff && !logs && !reachable ? (
        <section className="panel" aria-labelledby="logs-title">
          <h2 id="logs-title">{t('instance.logs.title')}</h2>
          <p>{t('instance.logs.unavailable')}</p>
        </section>
      ) : null}
      {logs ? (
        <section className="panel" aria-labelledby="logs-title">
          <h2 id="logs-title">{t('instance.logs.title')}</h2>
          {logs.containers.length === 0 ? <p>{t('instance.logs.none')}</p> : null}
          {logs.containers.map((c) => (
            <div key={c.container}>
              <h3>{t('instance.logs.container', { service: c.service, container: c.container })}</h3>
              {c.lines.length === 0 ? <p>{t('instance.logs.none')}</p> : <pre className="logs">{c.lines.join('\n')}</pre>}
            </div>
          ))}
        </section>
      ) : null}
      {isAdmin && !instance.removed ? (
        <RemoveForm
          slug={organization.slug}
          id={instance.id}
          tool={instance.tool}
          org={organization.name}
          days={retentionDays}
          result={result?.remove}
        />
      ) : null}
    </>
  )
}
