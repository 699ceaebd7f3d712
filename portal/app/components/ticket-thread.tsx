import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'
import { FieldErrors } from '~/components/field'
import { AttachmentInput, When } from '~/components/tickets'
import type { action, loader } from '~/routes/tickets.$id'
import { STATUSES } from '~/utils/helpdesk/ticket-forms'
import { useT } from '~/utils/use-t'

// The ticket page's thread: the messages, the reply form (with the agents'
// note, canned reply and status choices), the requester's own actions, and
// the history. The page itself (loader, action) is routes/tickets.$id.tsx.

export function Messages() {
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

export function ReplyForm() {
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

export function History() {
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


export function RequesterActions() {
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

