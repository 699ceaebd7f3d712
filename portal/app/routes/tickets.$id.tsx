import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'
import { ActionNotice } from '~/components/action-notice'
import { FieldErrors } from '~/components/field'
import { AttachmentInput, PriorityBadge, RefusedFiles, SlaBadge, StatusBadge, When } from '~/components/tickets'
import { PresenceNotice } from '~/components/ticket-presence'
import { db } from '~/utils/db.server'
import { env } from '~/utils/env.server'
import { requireTicketAccess } from '~/utils/helpdesk/access.server'
import { cannedRepliesFor } from '~/utils/helpdesk/canned-for-ticket.server'
import { agentUpdateSchema, CATEGORIES, parseLocalDateTime, PRIORITIES, replySchema, requesterActionSchema, STATUSES } from '~/utils/helpdesk/ticket-forms'
import { historyOf, messagesOf, organisationContext, slaViews } from '~/utils/helpdesk/ticket-view.server'
import { addMessage, helpdeskAgents, TicketError, updateTicket, type TicketChanges } from '~/utils/helpdesk/tickets.server'
import { discard, readTicketForm, type RefusedFile } from '~/utils/helpdesk/uploads.server'
import type { MessageKey } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { stepLabel } from '~/utils/steps'
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

function Messages() {
  const { messages, ticket, timeZone } = useLoaderData<typeof loader>()
  const t = useT()
  return (
    <ol className="ticket-thread" aria-label={t('ticket.thread')}>
      {messages.map((m) => (
        <li key={m.id} className={`ticket-message ${m.kind === 'INTERNAL' ? 'internal' : m.fromAgent ? 'from-agent' : 'from-requester'}`}>
          <header>
            {m.kind === 'INTERNAL' ? <strong className="badge internal">{t('ticket.internalNote')}</strong> : null}{' '}
            <strong>{m.authorName === '[erased]' ? t('ticket.erasedPerson') : m.authorName}</strong>
            {m.fromAgent && m.kind === 'PUBLIC' ? <span className="badge">{t('ticket.helpdesk')}</span> : null}{' '}
            <When iso={m.createdAt} timeZone={timeZone} />
            {m.channel === 'EMAIL' ? <span className="muted"> · {t('ticket.byMail')}</span> : null}
          </header>
          <div className="markdown" dangerouslySetInnerHTML={{ __html: m.html }} />
          {m.attachments.length ? (
            <ul className="attachments" aria-label={t('ticket.attachments')}>
              {m.attachments.map((a) => (
                <li key={a.id}>
                  <a href={`/tickets/${ticket.id}/attachments/${a.id}`}>{a.fileName}</a> <span className="muted">({Math.max(1, Math.round(a.size / 1024))} KB)</span>
                </li>
              ))}
            </ul>
          ) : null}
        </li>
      ))}
    </ol>
  )
}

function ReplyForm() {
  const { ticket, staff, agentData, maxMb } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const navigation = useNavigation()
  const t = useT()
  const [internal, setInternal] = useState(false)
  const [status, setStatus] = useState('')
  const bodyRef = useRef<HTMLTextAreaElement>(null)
  const formRef = useRef<HTMLFormElement>(null)
  const submitting = navigation.state === 'submitting' && navigation.formData?.get('intent') === 'reply'
  // A reply that went through empties the form; a refused one keeps what was typed.
  useEffect(() => {
    if (navigation.state === 'idle' && actionData?.notice && formRef.current) {
      formRef.current.reset()
      setInternal(false)
      setStatus('')
    }
  }, [navigation.state, actionData])
  if (ticket.status === 'CLOSED') {
    return <p className="notice">{t('ticket.closedHint')}</p>
  }
  const bodyErrors = actionData?.fieldErrors?.body
  return (
    <Form method="post" encType="multipart/form-data" ref={formRef} className={`reply-form${internal ? ' internal' : ''}`} aria-labelledby="reply-title">
      <h2 id="reply-title">{internal ? t('ticket.noteTitle') : t('ticket.replyTitle')}</h2>
      <input type="hidden" name="intent" value="reply" />
      {staff ? (
        <div className="field choice">
          <input id="internal" type="checkbox" name="internal" checked={internal} onChange={(e) => setInternal(e.target.checked)} />
          <label htmlFor="internal">{t('ticket.field.internal')}</label>
        </div>
      ) : null}
      {agentData && agentData.canned.length ? (
        <div className="field">
          <label htmlFor="canned">{t('ticket.field.canned')}</label>
          <select
            id="canned"
            defaultValue=""
            onChange={(e) => {
              const chosen = agentData.canned.find((c) => c.id === e.target.value)
              if (chosen && bodyRef.current) {
                bodyRef.current.value = bodyRef.current.value ? `${bodyRef.current.value}\n\n${chosen.body}` : chosen.body
                bodyRef.current.focus()
              }
              e.target.value = ''
            }}
          >
            <option value="">{t('ticket.field.canned.choose')}</option>
            {agentData.canned.map((c) => (
              <option key={c.id} value={c.id}>
                {c.title} ({c.language})
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <div className="field">
        <label htmlFor="reply-body">{internal ? t('ticket.field.note') : t('ticket.field.reply')}</label>
        <p id="reply-body-help" className="help">
          {internal ? t('ticket.field.note.help') : t('ticket.field.body.help')}
        </p>
        <textarea
          id="reply-body"
          name="body"
          rows={7}
          ref={bodyRef}
          defaultValue={actionData?.body ?? ''}
          key={actionData?.body ?? 'empty'}
          aria-invalid={bodyErrors?.length ? true : undefined}
          aria-describedby={bodyErrors?.length ? 'reply-body-help reply-body-error' : 'reply-body-help'}
        />
        <FieldErrors id="reply-body-error" errors={bodyErrors} />
      </div>
      <AttachmentInput maxMb={maxMb} />
      {staff && !internal ? (
        <div className="field">
          <label htmlFor="reply-status">{t('ticket.field.statusAfter')}</label>
          <select id="reply-status" name="status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t('ticket.field.statusAfter.keep')}</option>
            <option value="OPEN">{t('ticket.status.OPEN')}</option>
            <option value="PENDING">{t('ticket.status.PENDING')}</option>
            <option value="RESOLVED">{t('ticket.status.RESOLVED')}</option>
          </select>
        </div>
      ) : null}
      {staff && status === 'PENDING' ? (
        <div className="field">
          <label htmlFor="reply-pending">{t('ticket.field.pendingUntil')}</label>
          <input id="reply-pending" type="datetime-local" name="pendingUntil" required />
        </div>
      ) : null}
      <button type="submit" className="primary" disabled={submitting}>
        {internal ? t('ticket.noteSubmit') : t('ticket.replySubmit')}
      </button>
    </Form>
  )
}

function RequesterActions() {
  const { ticket } = useLoaderData<typeof loader>()
  const t = useT()
  return (
    <div className="actions">
      {ticket.status === 'RESOLVED' || ticket.status === 'CLOSED' ? (
        <Form method="post" className="inline-form">
          <button type="submit" name="intent" value="reopen">
            {t('ticket.action.reopen')}
          </button>
        </Form>
      ) : (
        <>
          <Form method="post" className="inline-form">
            <button type="submit" name="intent" value="resolve">
              {t('ticket.action.solved')}
            </button>
          </Form>{' '}
          <Form method="post" className="inline-form">
            <button type="submit" name="intent" value="close">
              {t('ticket.action.close')}
            </button>
          </Form>
        </>
      )}
    </div>
  )
}

function toLocalInput(iso: string | null, timeZone: string) {
  if (!iso) return ''
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(iso))
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00'
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`
}

function AgentPanel() {
  const { ticket, agentData, timeZone, viewerId } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const t = useT()
  const [status, setStatus] = useState<string>(ticket.status)
  if (!agentData) return null
  const errors = actionData?.fieldErrors ?? {}
  const instances = agentData.context?.instances.filter((i) => !i.removed || i.id === ticket.instanceId) ?? []
  return (
    <section className="panel" aria-labelledby="agent-panel-title">
      <h2 id="agent-panel-title">{t('ticket.agent.title')}</h2>
      {ticket.assigneeId !== viewerId ? (
        <Form method="post" className="inline-form">
          <button type="submit" name="intent" value="take">
            {t('ticket.agent.take')}
          </button>
        </Form>
      ) : null}
      <Form method="post" className="stack">
        <input type="hidden" name="intent" value="update" />
        <div className="field">
          <label htmlFor="f-status">{t('ticket.field.status')}</label>
          <select id="f-status" name="status" value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`ticket.status.${s}`)}
              </option>
            ))}
          </select>
        </div>
        {status === 'PENDING' ? (
          <div className="field">
            <label htmlFor="f-pending">{t('ticket.field.pendingUntil')}</label>
            <input id="f-pending" type="datetime-local" name="pendingUntil" defaultValue={toLocalInput(ticket.pendingUntil, timeZone)} aria-describedby={errors.pendingUntil ? 'f-pending-error' : undefined} />
            <FieldErrors id="f-pending-error" errors={errors.pendingUntil} />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="f-priority">{t('ticket.label.priority')}</label>
          <select id="f-priority" name="priority" defaultValue={ticket.priority}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {t(`ticket.priority.${p}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-category">{t('ticket.label.category')}</label>
          <select id="f-category" name="category" defaultValue={ticket.category}>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {t(`ticket.category.${c}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-assignee">{t('ticket.field.assignee')}</label>
          <select id="f-assignee" name="assigneeId" defaultValue={ticket.assigneeId ?? ''}>
            <option value="">{t('ticket.field.assignee.none')}</option>
            {agentData.agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-group">{t('ticket.field.group')}</label>
          <select id="f-group" name="groupId" defaultValue={ticket.groupId ?? ''}>
            <option value="">{t('ticket.field.group.none')}</option>
            {agentData.groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </div>
        {instances.length ? (
          <div className="field">
            <label htmlFor="f-instance">{t('ticket.field.instance')}</label>
            <select id="f-instance" name="instanceId" defaultValue={ticket.instanceId ?? ''}>
              <option value="">{t('ticket.field.instance.none')}</option>
              {instances.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.tool}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="f-tags">{t('ticket.field.tags')}</label>
          <p id="f-tags-help" className="help">
            {t('ticket.field.tags.help')}
          </p>
          <input id="f-tags" name="tags" defaultValue={ticket.tags.join(', ')} aria-describedby="f-tags-help" />
        </div>
        <button type="submit" className="primary">
          {t('ticket.agent.save')}
        </button>
      </Form>
    </section>
  )
}

function OrganisationContext() {
  const { agentData } = useLoaderData<typeof loader>()
  const t = useT()
  const context = agentData?.context
  if (!context) return null
  return (
    <section className="panel" aria-labelledby="context-title">
      <h2 id="context-title">{t('ticket.context.title', { org: context.organization.name })}</h2>
      <p>
        {t('ticket.context.summary', { city: context.organization.city, members: String(context.organization.members) })}{' '}
        <Link to={`/organisations/${context.organization.slug}`}>{t('ticket.context.open')}</Link>
      </p>
      {context.instances.length ? (
        <table>
          <caption className="visually-hidden">{t('ticket.context.tools')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('ticket.context.tool')}</th>
              <th scope="col">{t('ticket.context.state')}</th>
            </tr>
          </thead>
          <tbody>
            {context.instances.map((i) => (
              <tr key={i.id}>
                <td>
                  <Link to={`/organisations/${context.organization.slug}/instances/${i.id}`}>{i.tool}</Link>
                </td>
                <td>
                  {i.removed ? t('ticket.context.removed') : i.phase ?? t('ticket.context.waiting')}
                  {i.failure ? (
                    <span className="muted">
                      {' '}
                      — {t('instance.failure.body', { step: stepLabel(i.failure.step, t), message: i.failure.message })}
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>{t('ticket.context.noTools')}</p>
      )}
      {context.focus ? (
        <>
          <h3>{t('ticket.context.events', { tool: context.focus.tool })}</h3>
          {!context.reachable ? <p className="notice">{t('ticket.context.unreachable')}</p> : null}
          {context.events.length ? (
            <ol className="events">
              {context.events.map((e) => (
                <li key={e.seq}>
                  <code>{e.at.slice(0, 19).replace('T', ' ')}</code> {stepLabel(e.step, t)}: {e.status}
                  {e.message ? ` — ${e.message}` : ''}
                </li>
              ))}
            </ol>
          ) : null}
          {context.logs.map((l) => (
            <details key={l.container}>
              <summary>{t('ticket.context.logs', { container: l.container })}</summary>
              <pre className="logs">{l.lines.join('\n')}</pre>
            </details>
          ))}
        </>
      ) : null}
    </section>
  )
}

function historyText(e: { type: string; data: Record<string, string | number | string[] | null> }, t: ReturnType<typeof useT>) {
  const d = e.data
  const status = (s: unknown) => (typeof s === 'string' && (STATUSES as readonly string[]).includes(s) ? t(`ticket.status.${s as (typeof STATUSES)[number]}`) : String(s ?? ''))
  switch (e.type) {
    case 'created':
      return t('ticket.history.created')
    case 'status':
      return t('ticket.history.status', { from: status(d.from), to: status(d.to) })
    case 'priority':
      return t('ticket.history.priority', { from: t(`ticket.priority.${d.from as 'LOW'}`), to: t(`ticket.priority.${d.to as 'LOW'}`) })
    case 'category':
      return t('ticket.history.category', { to: t(`ticket.category.${d.to as 'OTHER'}`) })
    case 'assignee':
      return d.to ? t('ticket.history.assigned', { to: String(d.to) }) : t('ticket.history.unassigned')
    case 'group':
      return t('ticket.history.group')
    case 'tags':
      return t('ticket.history.tags', { added: ((d.added as string[]) ?? []).join(', ') || '—', removed: ((d.removed as string[]) ?? []).join(', ') || '—' })
    case 'instance':
      return t('ticket.history.instance')
    case 'reply':
      return t('ticket.history.reply')
    case 'note':
      return t('ticket.history.note')
    case 'satisfaction':
      return t('ticket.history.satisfaction', { rating: String(d.rating ?? '') })
    case 'sla.warning':
      return t('ticket.history.slaWarning')
    case 'sla.breach':
      return t('ticket.history.slaBreach')
    default:
      return e.type
  }
}

function History() {
  const { history, timeZone } = useLoaderData<typeof loader>()
  const t = useT()
  return (
    <details className="panel">
      <summary>
        <h2 className="inline">{t('ticket.history')}</h2>
      </summary>
      <ol className="history">
        {history.map((e) => (
          <li key={e.id}>
            <When iso={e.createdAt} timeZone={timeZone} /> — {e.actor ?? t('ticket.history.system')}: {historyText(e, t)}
          </li>
        ))}
      </ol>
    </details>
  )
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
