import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { useState } from 'react'
import { FieldErrors } from '~/components/field'
import type { action, loader } from '~/routes/tickets.$id'
import { CATEGORIES, PRIORITIES, STATUSES } from '~/utils/helpdesk/ticket-forms'
import { stepLabel } from '~/utils/steps'
import { useT } from '~/utils/use-t'

// What only helpdesk staff see beside a ticket: its fields to change, and the
// organisation's tools with their provisioning steps and logs.

function toLocalInput(iso: string | null, timeZone: string) {
  if (!iso) return ''
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(iso))
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00'
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`
}

export function AgentPanel() {
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

export function OrganisationContext() {
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

