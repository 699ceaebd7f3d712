import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import { ActionNotice } from '~/components/action-notice'
import { PriorityBadge, RefusedFiles, SlaBadge, StatusBadge, When } from '~/components/tickets'
import { PresenceNotice } from '~/components/ticket-presence'
import { AgentPanel, OrganisationContext } from '~/components/ticket-agent-panel'
import { History, Messages, ReplyForm, RequesterActions } from '~/components/ticket-thread'
import { db } from '~/utils/db.server'
import { env } from '~/utils/env.server'
import { requireTicketAccess } from '~/utils/helpdesk/access.server'
import { cannedRepliesFor } from '~/utils/helpdesk/canned-for-ticket.server'
import { agentUpdateSchema, parseLocalDateTime, replySchema, requesterActionSchema } from '~/utils/helpdesk/ticket-forms'
import { historyOf, messagesOf, organisationContext, slaViews } from '~/utils/helpdesk/ticket-view.server'
import { addMessage, helpdeskAgents, TicketError, updateTicket, type TicketChanges } from '~/utils/helpdesk/tickets.server'
import { discard, readTicketForm, type RefusedFile } from '~/utils/helpdesk/uploads.server'
import type { MessageKey } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { useT } from '~/utils/use-t'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `#${data.ticket.number} ${data.ticket.subject} · Commons Portal` : 'Commons Portal' }]

/**
 * One ticket. Members of its organisation read and answer it, close and
 * reopen it; helpdesk agents and operators also see internal notes, change
 * its fields, and see the organisation's tools with their state and logs.
 * Anyone else gets a 404.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const { ticket, staff, session } = await requireTicketAccess(request, params.id)
  const { lang } = await getTranslator(request)
  const [messages, history, organization, instance, assignee, group, watching] = await Promise.all([
    messagesOf(ticket, staff),
    historyOf(ticket, staff),
    ticket.organizationId ? db().organization.findUnique({ where: { id: ticket.organizationId }, select: { name: true, slug: true } }) : null,
    ticket.instanceId ? db().instance.findUnique({ where: { id: ticket.instanceId } }) : null,
    ticket.assigneeId ? db().user.findUnique({ where: { id: ticket.assigneeId }, select: { name: true } }) : null,
    ticket.groupId ? db().helpdeskGroup.findUnique({ where: { id: ticket.groupId } }) : null,
    db().ticketWatcher.findUnique({ where: { ticketId_userId: { ticketId: ticket.id, userId: session.userId } } }),
  ])
  const agentData = staff
    ? {
        agents: await helpdeskAgents(),
        groups: await db().helpdeskGroup.findMany({ orderBy: { name: 'asc' } }),
        context: await organisationContext(ticket, lang),
        canned: await cannedRepliesFor(ticket, session, lang),
      }
    : null
  return {
    ticket: {
      id: ticket.id,
      number: ticket.number,
      subject: ticket.subject,
      status: ticket.status,
      priority: ticket.priority,
      category: ticket.category,
      channel: ticket.channel,
      tags: ticket.tags,
      requesterName: ticket.requesterName,
      requesterEmail: staff ? ticket.requesterEmail : null,
      createdAt: ticket.createdAt.toISOString(),
      pendingUntil: ticket.pendingUntil?.toISOString() ?? null,
      assigneeId: ticket.assigneeId,
      groupId: ticket.groupId,
      instanceId: ticket.instanceId,
      satisfactionRating: ticket.satisfactionRating,
      satisfactionComment: staff ? ticket.satisfactionComment : null,
    },
    organization,
    instance: instance ? { id: instance.id, tool: toolName(instance.recipeId, lang), phase: instance.phase } : null,
    assignee: assignee?.name ?? null,
    group: group?.name ?? null,
    sla: slaViews(ticket),
    messages,
    history,
    staff,
    watching: Boolean(watching),
    viewerId: session.userId,
    agentData,
    timeZone: env().HELPDESK_TIMEZONE,
    maxMb: env().ATTACHMENT_MAX_MB,
  }
}

type ActionResult = {
  notice: string | null
  error: string | null
  refused: RefusedFile[]
  fieldErrors?: Record<string, string[]>
  body?: string
}

function reply(status: number, result: Partial<ActionResult>) {
  return data({ notice: null, error: null, refused: [], ...result } satisfies ActionResult, { status })
}

export async function action({ request, params }: ActionFunctionArgs) {
  const { ticket, actor, staff } = await requireTicketAccess(request, params.id)
  const { t } = await getTranslator(request)
  const multipart = (request.headers.get('Content-Type') ?? '').startsWith('multipart/form-data')
  let form: Awaited<ReturnType<typeof readTicketForm>> | null = null
  let formData: FormData
  if (multipart) {
    try {
      form = await readTicketForm(request)
    } catch (error) {
      if (error instanceof Error && error.name === 'MaxPartSizeExceededError') return reply(413, { error: t('ticket.error.formTooLarge') })
      throw error
    }
    formData = form.formData
  } else {
    formData = await request.formData()
  }
  const stored = form?.stored ?? []
  const ticketError = async (error: unknown, body?: string) => {
    await discard(stored)
    if (!(error instanceof TicketError)) throw error
    return reply(error.status === 404 ? 404 : error.status, { error: t(error.key as MessageKey, error.vars), body })
  }
  const intent = formData.get('intent')

  if (intent === 'reply') {
    const submission = parseWithZod(formData, { schema: replySchema })
    const typed = String(formData.get('body') ?? '')
    if (submission.status !== 'success') {
      await discard(stored)
      const fieldErrors = submission.reply().error ?? {}
      return reply(400, { fieldErrors: Object.fromEntries(Object.entries(fieldErrors).map(([k, v]) => [k, v ?? []])), body: typed })
    }
    if (form?.refused.length) {
      await discard(stored)
      return reply(400, { error: t('ticket.error.attachments', { max: String(env().ATTACHMENT_MAX_MB) }), refused: form.refused, body: typed })
    }
    const internal = submission.value.internal === 'on'
    if (internal && !staff) return ticketError(new TicketError('ticket.error.notAgent', 403), typed)
    try {
      await db().$transaction(async (tx) => {
        await addMessage(actor, ticket.id, { body: submission.value.body, internal, attachments: stored }, tx)
        const next = staff ? submission.value.status : undefined
        if (next) {
          const pendingUntil = submission.value.pendingUntil ? parseLocalDateTime(submission.value.pendingUntil, env().HELPDESK_TIMEZONE) : null
          if (next === 'PENDING' && !pendingUntil) throw new TicketError('ticket.error.pendingInPast', 400)
          await updateTicket(actor, ticket.id, { status: next, pendingUntil }, tx)
        }
      })
    } catch (error) {
      return ticketError(error, typed)
    }
    return reply(200, { notice: t(internal ? 'ticket.noted' : 'ticket.replied') })
  }

  await discard(stored)
  if (intent === 'close' || intent === 'reopen' || intent === 'resolve') {
    const submission = parseWithZod(formData, { schema: requesterActionSchema })
    if (submission.status !== 'success') return reply(400, { error: t('error.400') })
    const status = submission.value.intent === 'close' ? 'CLOSED' : submission.value.intent === 'reopen' ? 'OPEN' : 'RESOLVED'
    try {
      await updateTicket(actor, ticket.id, { status })
    } catch (error) {
      return ticketError(error)
    }
    return reply(200, { notice: t(`ticket.done.${submission.value.intent}`) })
  }

  if (intent === 'update') {
    if (!staff) return reply(403, { error: t('ticket.error.notAgent') })
    const submission = parseWithZod(formData, { schema: agentUpdateSchema })
    if (submission.status !== 'success') {
      const fieldErrors = submission.reply().error ?? {}
      return reply(400, { error: t('form.errors'), fieldErrors: Object.fromEntries(Object.entries(fieldErrors).map(([k, v]) => [k, v ?? []])) })
    }
    const v = submission.value
    const changes: TicketChanges = {
      status: v.status,
      pendingUntil: v.pendingUntil ? parseLocalDateTime(v.pendingUntil, env().HELPDESK_TIMEZONE) : null,
      priority: v.priority,
      category: v.category,
      assigneeId: v.assigneeId || null,
      groupId: v.groupId || null,
      instanceId: v.instanceId || null,
      tags: (v.tags ?? '').split(',').filter((s) => s.trim()),
    }
    if (v.status === 'PENDING' && ticket.status === 'PENDING' && !v.pendingUntil) delete changes.pendingUntil
    if (v.status === 'PENDING' && !changes.pendingUntil && ticket.status !== 'PENDING') return reply(400, { error: t('ticket.error.pendingInPast'), fieldErrors: { pendingUntil: ['ticket.error.pendingInPast'] } })
    try {
      await updateTicket(actor, ticket.id, changes)
    } catch (error) {
      return ticketError(error)
    }
    return reply(200, { notice: t('ticket.updated') })
  }

  if (intent === 'watch' || intent === 'unwatch') {
    const key = { ticketId_userId: { ticketId: ticket.id, userId: actor.userId! } }
    if (intent === 'watch') await db().ticketWatcher.upsert({ where: key, create: { ticketId: ticket.id, userId: actor.userId! }, update: {} })
    else await db().ticketWatcher.deleteMany({ where: { ticketId: ticket.id, userId: actor.userId! } })
    return reply(200, { notice: t(intent === 'watch' ? 'ticket.watching' : 'ticket.notWatching') })
  }

  if (intent === 'take') {
    if (!staff || !actor.userId) return reply(403, { error: t('ticket.error.notAgent') })
    try {
      await updateTicket(actor, ticket.id, { assigneeId: actor.userId })
    } catch (error) {
      return ticketError(error)
    }
    return reply(200, { notice: t('ticket.taken') })
  }
  return reply(400, { error: t('error.400') })
}

export default function TicketPage() {
  const { ticket, organization, instance, assignee, group, sla, staff, watching, timeZone, maxMb } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const t = useT()
  return (
    <div className="ticket-page">
      <section className="panel" aria-labelledby="ticket-title">
        <p className="muted">
          {staff ? <Link to="/helpdesk">{t('ticket.backToQueue')}</Link> : <Link to="/tickets">{t('ticket.backToList')}</Link>}
        </p>
        <h1 id="ticket-title">
          #{ticket.number} {ticket.subject}
        </h1>
        {params.get('created') ? (
          <div className="notice" role="status">
            {t('ticket.created', { number: String(ticket.number) })}
          </div>
        ) : null}
        <ActionNotice result={actionData} />
        <RefusedFiles files={actionData?.refused ?? []} maxMb={maxMb} />
        {staff ? <PresenceNotice ticketId={ticket.id} /> : null}
        <dl className="facts">
          <dt>{t('ticket.field.status')}</dt>
          <dd>
            <StatusBadge status={ticket.status} />
            {ticket.pendingUntil ? (
              <span>
                {' '}
                {t('ticket.pendingUntil')} <When iso={ticket.pendingUntil} timeZone={timeZone} />
              </span>
            ) : null}
          </dd>
          <dt>{t('ticket.label.priority')}</dt>
          <dd>
            <PriorityBadge priority={ticket.priority} />
          </dd>
          <dt>{t('ticket.label.category')}</dt>
          <dd>{t(`ticket.category.${ticket.category}`)}</dd>
          {organization ? (
            <>
              <dt>{t('ticket.field.organisation')}</dt>
              <dd>{organization.name}</dd>
            </>
          ) : null}
          {instance ? (
            <>
              <dt>{t('ticket.field.instance')}</dt>
              <dd>{instance.tool}</dd>
            </>
          ) : null}
          <dt>{t('ticket.requester')}</dt>
          <dd>
            {ticket.requesterName === '[erased]' ? t('ticket.erasedPerson') : ticket.requesterName}
            {ticket.requesterEmail ? <span className="muted"> &lt;{ticket.requesterEmail}&gt;</span> : null}
          </dd>
          <dt>{t('ticket.opened')}</dt>
          <dd>
            <When iso={ticket.createdAt} timeZone={timeZone} />
          </dd>
          {staff ? (
            <>
              <dt>{t('ticket.field.assignee')}</dt>
              <dd>{assignee ?? t('ticket.field.assignee.none')}</dd>
              <dt>{t('ticket.field.group')}</dt>
              <dd>{group ?? t('ticket.field.group.none')}</dd>
              {ticket.tags.length ? (
                <>
                  <dt>{t('ticket.field.tags')}</dt>
                  <dd>{ticket.tags.join(', ')}</dd>
                </>
              ) : null}
              <dt>{t('sla.title')}</dt>
              <dd>
                {sla.map((s) => (
                  <SlaBadge key={s.label} sla={s} timeZone={timeZone} />
                ))}
              </dd>
            </>
          ) : null}
          {ticket.satisfactionRating ? (
            <>
              <dt>{t('ticket.satisfaction')}</dt>
              <dd>
                {t('ticket.satisfaction.value', { rating: String(ticket.satisfactionRating) })}
                {ticket.satisfactionComment ? <span> — “{ticket.satisfactionComment}”</span> : null}
              </dd>
            </>
          ) : null}
        </dl>
        {!staff ? <RequesterActions /> : null}
        <Form method="post" className="inline-form">
          <button type="submit" name="intent" value={watching ? 'unwatch' : 'watch'} aria-describedby="watch-help">
            {watching ? t('ticket.action.unwatch') : t('ticket.action.watch')}
          </button>
          <span id="watch-help" className="help">
            {watching ? t('ticket.watch.on') : t('ticket.watch.off')}
          </span>
        </Form>
      </section>
      <div className={staff ? 'ticket-columns' : undefined}>
        <div>
          <section className="panel" aria-label={t('ticket.thread')}>
            <Messages />
          </section>
          <section className="panel">
            <ReplyForm />
          </section>
          <History />
        </div>
        {staff ? (
          <aside aria-label={t('ticket.agent.title')}>
            {/* Its fields are uncontrolled: a new key when the ticket changed (by a reply, "Assign to me", another agent) shows what is stored, so saving never writes old values back. */}
            <AgentPanel key={[ticket.status, ticket.pendingUntil, ticket.priority, ticket.category, ticket.assigneeId, ticket.groupId, ticket.instanceId, ticket.tags.join(',')].join('|')} />
            <OrganisationContext />
          </aside>
        ) : null}
      </div>
    </div>
  )
}
