import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { ActionNotice } from '~/components/action-notice'
import { formatMinutes } from '~/components/tickets'
import { hasRole, requireRole } from '~/utils/auth.server'
import { db } from '~/utils/db.server'
import { env } from '~/utils/env.server'
import { dutchPublicHolidays } from '~/utils/helpdesk/holidays-nl'
import { businessCalendar, forgetSlaTargets, slaTargets } from '~/utils/helpdesk/settings.server'
import { PRIORITIES } from '~/utils/helpdesk/ticket-forms'
import { getTranslator } from '~/utils/i18n.server'
import { useLanguage, useT } from '~/utils/use-t'

export const meta: MetaFunction = () => [{ title: 'Helpdesk settings · Commons Portal' }]

const minutes = z.coerce.number({ error: 'sla.settings.minutes' }).int('sla.settings.minutes').min(5, 'sla.settings.minutes').max(60 * 24 * 60, 'sla.settings.minutes')
const groupSchema = z.object({
  intent: z.literal('add-group'),
  name: z.string({ error: 'form.required' }).trim().min(2, 'form.tooShort|min=2').max(60, 'form.tooLong|max=60'),
  description: z.string().trim().max(200, 'form.tooLong|max=200').optional(),
})
const slaSchema = z.object(Object.fromEntries(PRIORITIES.flatMap((p) => [[`${p}_first`, minutes], [`${p}_resolution`, minutes]])) as Record<string, typeof minutes>)

/** Business hours and SLA targets: everyone on the helpdesk may look, operators may change the targets. */
export async function loader({ request }: LoaderFunctionArgs) {
  const session = await requireRole(request, 'helpdesk-agent', 'platform-operator')
  const calendar = businessCalendar()
  const year = new Date().getFullYear()
  const today = new Date().toISOString().slice(0, 10)
  const holidays = [...dutchPublicHolidays(year), ...dutchPublicHolidays(year + 1)].filter((h) => h.date >= today).slice(0, 8)
  return {
    targets: await slaTargets(),
    groups: await db().helpdeskGroup.findMany({ orderBy: { name: 'asc' }, include: { _count: { select: { tickets: true } } } }),
    mayEdit: hasRole(session, 'platform-operator'),
    hours: env().HELPDESK_BUSINESS_HOURS,
    timeZone: calendar.timeZone,
    closedDates: calendar.closedDates,
    holidays,
    warnMinutes: env().HELPDESK_SLA_WARN_MINUTES,
    autoCloseDays: env().HELPDESK_AUTO_CLOSE_DAYS,
    retentionDays: env().HELPDESK_RETENTION_DAYS,
  }
}

export async function action({ request }: ActionFunctionArgs) {
  const session = await requireRole(request, 'platform-operator')
  const { t } = await getTranslator(request)
  const form = await request.formData()
  if (form.get('intent') === 'add-group') {
    const added = groupSchema.safeParse(Object.fromEntries(form))
    if (!added.success) return data({ notice: null, error: t('sla.settings.groupInvalid') }, { status: 400 })
    if (await db().helpdeskGroup.findUnique({ where: { name: added.data.name } })) return data({ notice: null, error: t('sla.settings.groupTaken') }, { status: 409 })
    const group = await db().helpdeskGroup.create({ data: { name: added.data.name, description: added.data.description ?? '' } })
    await db().auditEntry.create({ data: { actorId: session.userId, action: 'helpdesk.add-queue', targetType: 'helpdesk-group', targetId: group.id } })
    return { notice: t('sla.settings.groupAdded', { name: group.name }), error: null }
  }
  // Plain names (PRIORITY_first): Conform would read "URGENT.first" as a nested object.
  const submission = slaSchema.safeParse(Object.fromEntries(form))
  if (!submission.success) return data({ notice: null, error: t('sla.settings.minutes') }, { status: 400 })
  const v = submission.data as Record<string, number>
  const rows = PRIORITIES.map((p) => ({ priority: p, firstResponseMinutes: v[`${p}_first`]!, resolutionMinutes: v[`${p}_resolution`]! }))
  if (rows.some((r) => r.resolutionMinutes < r.firstResponseMinutes)) return data({ notice: null, error: t('sla.settings.order') }, { status: 400 })
  await db().$transaction(async (tx) => {
    for (const { priority, ...row } of rows) await tx.slaPolicy.upsert({ where: { priority }, create: { priority, ...row }, update: row })
    await tx.auditEntry.create({ data: { actorId: session.userId, action: 'helpdesk.sla-targets', targetType: 'sla-policy', targetId: 'all', data: v } })
  })
  forgetSlaTargets()
  return { notice: t('sla.settings.saved'), error: null }
}

export default function HelpdeskSettings() {
  const { targets, groups, mayEdit, hours, timeZone, closedDates, holidays, warnMinutes, autoCloseDays, retentionDays } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const t = useT()
  const lang = useLanguage()
  return (
    <>
      <section className="panel" aria-labelledby="sla-title">
        <h1 id="sla-title">{t('sla.settings.title')}</h1>
        <ActionNotice result={actionData} />
        <p>{t('sla.settings.intro', { warn: String(warnMinutes) })}</p>
        <Form method="post" noValidate>
          <table>
            <caption className="visually-hidden">{t('sla.settings.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('ticket.label.priority')}</th>
                <th scope="col">{t('sla.firstResponse')}</th>
                <th scope="col">{t('sla.resolution')}</th>
              </tr>
            </thead>
            <tbody>
              {PRIORITIES.map((p) => (
                <tr key={p}>
                  <th scope="row">{t(`ticket.priority.${p}`)}</th>
                  {(['first', 'resolution'] as const).map((kind) => {
                    const value = kind === 'first' ? targets[p].firstResponseMinutes : targets[p].resolutionMinutes
                    const id = `${p}-${kind}`
                    return (
                      <td key={kind}>
                        <label htmlFor={id} className="visually-hidden">
                          {t(`ticket.priority.${p}`)}: {kind === 'first' ? t('sla.firstResponse') : t('sla.resolution')} ({t('sla.settings.unit')})
                        </label>
                        {mayEdit ? <input id={id} name={`${p}_${kind}`} type="number" min={5} defaultValue={value} inputMode="numeric" /> : null}
                        <span className="muted"> {formatMinutes(value, lang)}</span>
                      </td>
                    )
                  })}
                </tr>
              ))}
            </tbody>
          </table>
          {mayEdit ? (
            <button type="submit" className="primary">
              {t('sla.settings.save')}
            </button>
          ) : (
            <p className="muted">{t('sla.settings.operatorsOnly')}</p>
          )}
        </Form>
      </section>
      <section className="panel" aria-labelledby="queues-title">
        <h2 id="queues-title">{t('sla.settings.queues')}</h2>
        <ul>
          {groups.map((g) => (
            <li key={g.id}>
              <strong>{g.name}</strong>
              {g.description ? ` — ${g.description}` : ''} <span className="muted">({t('sla.settings.queueTickets', { count: String(g._count.tickets) })})</span>
            </li>
          ))}
        </ul>
        {mayEdit ? (
          <Form method="post" className="stack" noValidate>
            <input type="hidden" name="intent" value="add-group" />
            <div className="field">
              <label htmlFor="group-name">{t('sla.settings.groupName')}</label>
              <input id="group-name" name="name" required minLength={2} maxLength={60} />
            </div>
            <div className="field">
              <label htmlFor="group-description">{t('sla.settings.groupDescription')}</label>
              <input id="group-description" name="description" maxLength={200} />
            </div>
            <button type="submit">{t('sla.settings.groupAdd')}</button>
          </Form>
        ) : null}
      </section>
      <section className="panel" aria-labelledby="calendar-title">
        <h2 id="calendar-title">{t('sla.settings.calendar')}</h2>
        <dl className="facts">
          <dt>{t('sla.settings.hours')}</dt>
          <dd>
            <code>{hours}</code> ({timeZone})
          </dd>
          <dt>{t('sla.settings.closed')}</dt>
          <dd>{closedDates.length ? closedDates.join(', ') : '—'}</dd>
          <dt>{t('sla.settings.autoClose')}</dt>
          <dd>{t('sla.settings.days', { days: String(autoCloseDays) })}</dd>
          <dt>{t('sla.settings.retention')}</dt>
          <dd>{t('sla.settings.days', { days: String(retentionDays) })}</dd>
        </dl>
        <h3>{t('sla.settings.holidays')}</h3>
        <ul>
          {holidays.map((h) => (
            <li key={h.date + h.name.en}>
              <time dateTime={h.date}>{h.date}</time> — {h.name[lang]}
            </li>
          ))}
        </ul>
        <p className="muted">{t('sla.settings.howToChange')}</p>
      </section>
    </>
  )
}
