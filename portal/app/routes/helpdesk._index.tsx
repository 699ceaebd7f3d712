import { getFormProps, getInputProps, useForm, type SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import type { ActionFunctionArgs, LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'
import { z } from 'zod'
import { Field, FormErrors } from '~/components/field'
import { ActionNotice } from '~/components/action-notice'
import { PriorityBadge, SlaBadge, StatusBadge, When, type SlaView } from '~/components/tickets'
import { ButtonForm } from '~/components/tools'
import queueStylesUrl from '~/styles/helpdesk-queue.css?url'
import { hasRole, requireRole } from '~/utils/auth.server'
import { catalogRecipes } from '~/utils/catalog.server'
import { db } from '~/utils/db.server'
import { env } from '~/utils/env.server'
import { parseFieldError } from '~/utils/forms'
import {
  bulkFormSchema,
  bulkUpdate,
  deleteSavedView,
  parseQueueFilter,
  QUEUE_VIEWS,
  QUEUE_SORTS,
  QueueError,
  queryQueue,
  queueCounts,
  queueQueryString,
  queueSla,
  savedViews,
  savedViewSchema,
  saveView,
  type QueueFilter,
  type QueueView,
} from '~/utils/helpdesk/queue.server'
import { PRIORITIES, STATUSES } from '~/utils/helpdesk/ticket-forms'
import { actorOf, helpdeskAgents } from '~/utils/helpdesk/tickets.server'
import { isMessageKey, type Translate } from '~/utils/i18n'
import { getTranslator } from '~/utils/i18n.server'
import { toolName } from '~/utils/instances.server'
import { useT } from '~/utils/use-t'

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: queueStylesUrl }]

export const meta: MetaFunction = () => [{ title: 'Helpdesk queue · Commons Portal' }]

const FILTER_KEYS = ['q', 'status', 'priority', 'org', 'tool', 'tag', 'group', 'assignee', 'sort'] as const

const deleteViewSchema = z.object({ intent: z.literal('delete-view'), viewId: z.string().min(1).max(64) })

/** An i18n key with parameters ('queue.error.choice|param=status|…'), in words. */
function translated(t: Translate, message: string) {
  const { key, vars } = parseFieldError(message)
  return isMessageKey(key) ? t(key, vars) : key
}

/**
 * The agents' queue: view tabs with counts, filters in the URL (so a view
 * can be shared or saved), the tickets with their SLA countdown, changes to
 * many tickets at once, and the agent's saved views.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  const session = await requireRole(request, 'helpdesk-agent', 'platform-operator')
  const { lang, t } = await getTranslator(request)
  const url = new URL(request.url)
  const parsed = parseQueueFilter(url.searchParams)
  const [agents, groups, organisations, views] = await Promise.all([
    helpdeskAgents(),
    db().helpdeskGroup.findMany({ orderBy: { name: 'asc' }, select: { id: true, name: true } }),
    db().organization.findMany({ orderBy: { name: 'asc' }, select: { slug: true, name: true } }),
    savedViews(session.userId),
  ])
  const options = {
    agents: agents.map((a) => ({ id: a.id, name: a.name })),
    groups,
    organisations,
    tools: catalogRecipes()
      .filter((r) => r.hostable)
      .map((r) => ({ id: r.id, name: r.texts[lang].name }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  }
  // What the person typed stays in the form, also when it was refused.
  const typed = Object.fromEntries(FILTER_KEYS.map((key) => [key, url.searchParams.get(key) ?? '']))
  const common = {
    isOperator: hasRole(session, 'platform-operator'), options, savedViews: views, typed, viewerId: session.userId, timeZone: env().HELPDESK_TIMEZONE, statuses: STATUSES, priorities: PRIORITIES, sorts: QUEUE_SORTS }

  if (!parsed.success) {
    const tabs = QUEUE_VIEWS.map((view) => ({ view, href: view === 'open' ? '' : `view=${view}`, count: null }))
    return data(
      { ...common, errors: parsed.errors.map((e) => translated(t, e)), view: 'open' as QueueView, query: '', tabs, rows: [], total: 0, page: 1, pages: 1, pageSize: 0, prev: null, next: null },
      { status: 400 },
    )
  }
  const filter = parsed.filter
  const now = new Date()
  const [queue, counts] = await Promise.all([queryQueue(filter, session.userId, { now }), queueCounts(session.userId, filter, { now })])
  const link = (change: Partial<QueueFilter>) => queueQueryString({ ...filter, page: 1, ...change }, { page: true })
  const pages = Math.max(1, Math.ceil(queue.total / queue.pageSize))
  return {
    ...common,
    errors: [] as string[],
    view: filter.view,
    query: queueQueryString(filter),
    tabs: QUEUE_VIEWS.map((view) => ({ view, href: link({ view }), count: view in counts ? counts[view as keyof typeof counts] : null })),
    rows: queue.rows.map((row) => {
      const sla = queueSla(row, now)
      return {
        id: row.id,
        number: row.number,
        subject: row.subject,
        status: row.status,
        priority: row.priority,
        requesterName: row.requesterName,
        organisation: row.organisation,
        tool: row.tool ? toolName(row.tool, lang) : null,
        assignee: row.assignee?.name ?? null,
        group: row.group?.name ?? null,
        tags: row.tags.map((tag) => ({ tag, href: link({ tag }) })),
        lastActivityAt: row.lastActivityAt.toISOString(),
        sla: sla ? ({ label: sla.target, state: sla.state, minutesLeft: sla.businessMinutesLeft, dueAt: sla.dueAt.toISOString() } satisfies SlaView) : null,
      }
    }),
    total: queue.total,
    page: queue.page,
    pages,
    pageSize: queue.pageSize,
    prev: queue.page > 1 ? link({ page: Math.min(queue.page - 1, pages) }) : null,
    next: queue.page < pages ? link({ page: queue.page + 1 }) : null,
  }
}

/** `at` tells one result from the next, so the ticked boxes clear after each change. */
type BulkNotice = { at: number; changed: string | null; unchanged: string | null; refused: { id: string; text: string }[] }

type ActionResult = {
  notice?: string
  error?: string
  errors?: string[]
  bulk?: BulkNotice
  saveView?: SubmissionResult<string[]>
}

export async function action({ request }: ActionFunctionArgs) {
  const session = await requireRole(request, 'helpdesk-agent', 'platform-operator')
  const { t } = await getTranslator(request)
  const formData = await request.formData()
  const intent = formData.get('intent')

  if (intent === 'bulk') {
    const submission = parseWithZod(formData, { schema: bulkFormSchema })
    if (submission.status !== 'success') {
      const errors = Object.values(submission.reply().error ?? {}).flatMap((messages) => messages ?? [])
      return data<ActionResult>({ errors: [...new Set(errors)].map((e) => translated(t, e)) }, { status: 400 })
    }
    const { ticketIds, change } = submission.value
    const result = await bulkUpdate(actorOf(session), ticketIds, change)
    const list = (tickets: { number: number }[]) => (tickets.length ? tickets.map((x) => `#${x.number}`).join(', ') : null)
    const bulk: BulkNotice = {
      at: Date.now(),
      changed: result.changed.length ? t('queue.bulk.changed', { list: list(result.changed) ?? '' }) : null,
      unchanged: result.unchanged.length ? t('queue.bulk.unchanged', { list: list(result.unchanged) ?? '' }) : null,
      refused: result.refused.map((r) => {
        // A closed ticket's own message speaks of replies; here it is about the change.
        const key = r.key === 'ticket.error.closed' ? 'queue.bulk.error.closed' : r.key
        const reason = isMessageKey(key) ? t(key, r.vars) : key
        return { id: r.id, text: r.number === null ? t('queue.bulk.missingTicket', { reason }) : t('queue.bulk.refusedTicket', { number: r.number, reason }) }
      }),
    }
    return data<ActionResult>({ bulk })
  }

  if (intent === 'save-view') {
    const submission = parseWithZod(formData, { schema: savedViewSchema })
    if (submission.status !== 'success') return data<ActionResult>({ saveView: submission.reply() }, { status: 400 })
    try {
      const { view, replaced } = await saveView(session.userId, submission.value)
      return data<ActionResult>({ notice: t(replaced ? 'queue.saved.replaced' : 'queue.saved.saved', { name: view.name }), saveView: submission.reply({ resetForm: true }) })
    } catch (error) {
      if (!(error instanceof QueueError)) throw error
      const vars = Object.entries(error.vars).map(([k, v]) => `|${k}=${v}`).join('')
      return data<ActionResult>({ saveView: submission.reply({ formErrors: [`${error.key}${vars}`] }) }, { status: error.status })
    }
  }

  if (intent === 'delete-view') {
    const submission = parseWithZod(formData, { schema: deleteViewSchema })
    if (submission.status !== 'success') return data<ActionResult>({ error: t('error.400') }, { status: 400 })
    try {
      await deleteSavedView(session.userId, submission.value.viewId)
      return data<ActionResult>({ notice: t('queue.saved.deleted') })
    } catch (error) {
      if (!(error instanceof QueueError)) throw error
      return data<ActionResult>({ error: t(error.key, error.vars) }, { status: error.status })
    }
  }

  return data<ActionResult>({ error: t('error.400') }, { status: 400 })
}

function ViewTabs({ tabs, current }: { tabs: { view: QueueView; href: string; count: number | null }[]; current: QueueView }) {
  const t = useT()
  return (
    <nav aria-label={t('queue.views')} className="queue-tabs">
      <ul>
        {tabs.map((tab) => (
          <li key={tab.view}>
            <Link to={`/helpdesk${tab.href ? `?${tab.href}` : ''}`} aria-current={tab.view === current ? 'page' : undefined}>
              {t(`queue.view.${tab.view}`)}
              {tab.count !== null ? (
                <>
                  {' '}
                  <span className="count">{tab.count}</span>
                </>
              ) : null}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  )
}

function FilterForm() {
  const { typed, view, options, statuses, priorities, sorts } = useLoaderData<typeof loader>()
  const t = useT()
  const select = (name: (typeof FILTER_KEYS)[number], label: string, choices: { value: string; label: string }[], anyLabel = t('queue.filter.any')) => (
    <div className="field">
      <label htmlFor={`queue-${name}`}>{label}</label>
      <select id={`queue-${name}`} name={name} defaultValue={typed[name]}>
        {anyLabel ? <option value="">{anyLabel}</option> : null}
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  )
  return (
    <Form method="get" role="search" aria-labelledby="queue-filter-title" className="panel queue-filters">
      <h2 id="queue-filter-title">{t('queue.filter.title')}</h2>
      <input type="hidden" name="view" value={view} />
      <div className="field wide">
        <label htmlFor="queue-q">{t('queue.filter.q')}</label>
        <p id="queue-q-help" className="help">
          {t('queue.filter.q.help')}
        </p>
        <input id="queue-q" type="search" name="q" defaultValue={typed.q} maxLength={200} aria-describedby="queue-q-help" />
      </div>
      {select('status', t('queue.filter.status'), statuses.map((s) => ({ value: s, label: t(`ticket.status.${s}`) })))}
      {select('priority', t('queue.filter.priority'), priorities.map((p) => ({ value: p, label: t(`ticket.priority.${p}`) })))}
      {select('org', t('queue.filter.org'), options.organisations.map((o) => ({ value: o.slug, label: o.name })))}
      {select('tool', t('queue.filter.tool'), options.tools.map((tool) => ({ value: tool.id, label: tool.name })))}
      {select('group', t('queue.filter.group'), options.groups.map((g) => ({ value: g.id, label: g.name })))}
      {select('assignee', t('queue.filter.assignee'), [{ value: 'none', label: t('queue.filter.assignee.none') }, ...options.agents.map((a) => ({ value: a.id, label: a.name }))])}
      <div className="field">
        <label htmlFor="queue-tag">{t('queue.filter.tag')}</label>
        <input id="queue-tag" name="tag" defaultValue={typed.tag} maxLength={40} />
      </div>
      {select('sort', t('queue.filter.sort'), sorts.map((s) => ({ value: s, label: t(`queue.sort.${s}`) })), '')}
      <div className="queue-filter-actions">
        <button type="submit" className="primary">
          {t('queue.filter.submit')}
        </button>{' '}
        <Link to={view === 'open' ? '/helpdesk' : `/helpdesk?view=${view}`}>{t('queue.filter.clear')}</Link>
      </div>
    </Form>
  )
}

function BulkResultNotice({ bulk }: { bulk: BulkNotice }) {
  const t = useT()
  return (
    <>
      {bulk.changed || bulk.unchanged ? (
        <div className="notice" role="status">
          {bulk.changed ? <p>{bulk.changed}</p> : null}
          {bulk.unchanged ? <p>{bulk.unchanged}</p> : null}
        </div>
      ) : null}
      {bulk.refused.length ? (
        <div className="notice error" role="alert">
          <p>{t('queue.bulk.refused')}</p>
          <ul>
            {bulk.refused.map((r) => (
              <li key={r.id}>
                <Link to={`/tickets/${r.id}`}>{r.text}</Link>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </>
  )
}

function BulkForm() {
  const { options, statuses, priorities } = useLoaderData<typeof loader>()
  const t = useT()
  return (
    <Form method="post" id="bulk-form" className="panel bulk" aria-labelledby="bulk-title">
      <h2 id="bulk-title">{t('queue.bulk.title')}</h2>
      <p className="help">{t('queue.bulk.help')}</p>
      <input type="hidden" name="intent" value="bulk" />
      {/* Enter in a field must not apply the first change by accident: the default button is this disabled one. */}
      <button type="submit" disabled hidden aria-hidden="true" tabIndex={-1} />
      <div className="bulk-row">
        <button type="submit" name="change" value="assign-me">
          {t('queue.bulk.assignMe')}
        </button>
        <button type="submit" name="change" value="unassign">
          {t('queue.bulk.unassign')}
        </button>
        <div className="field">
          <label htmlFor="bulk-assignee">{t('queue.bulk.assignee')}</label>
          <select id="bulk-assignee" name="assigneeId" defaultValue="">
            <option value="">{t('queue.bulk.choose')}</option>
            {options.agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" name="change" value="assign">
          {t('queue.bulk.assign')}
        </button>
      </div>
      <div className="bulk-row">
        <div className="field">
          <label htmlFor="bulk-status">{t('queue.bulk.status')}</label>
          <select id="bulk-status" name="status" defaultValue="">
            <option value="">{t('queue.bulk.choose')}</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {t(`ticket.status.${s}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="bulk-pending">{t('queue.bulk.pendingUntil')}</label>
          <input id="bulk-pending" type="datetime-local" name="pendingUntil" />
        </div>
        <button type="submit" name="change" value="status">
          {t('queue.bulk.setStatus')}
        </button>
      </div>
      <div className="bulk-row">
        <div className="field">
          <label htmlFor="bulk-priority">{t('queue.bulk.priority')}</label>
          <select id="bulk-priority" name="priority" defaultValue="">
            <option value="">{t('queue.bulk.choose')}</option>
            {priorities.map((p) => (
              <option key={p} value={p}>
                {t(`ticket.priority.${p}`)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" name="change" value="priority">
          {t('queue.bulk.setPriority')}
        </button>
        <div className="field">
          <label htmlFor="bulk-group">{t('queue.bulk.group')}</label>
          <select id="bulk-group" name="groupId" defaultValue="">
            <option value="">{t('queue.bulk.choose')}</option>
            {options.groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
            <option value="none">{t('queue.bulk.group.none')}</option>
          </select>
        </div>
        <button type="submit" name="change" value="group">
          {t('queue.bulk.setGroup')}
        </button>
      </div>
      <div className="bulk-row">
        <div className="field">
          <label htmlFor="bulk-tag">{t('queue.bulk.tag')}</label>
          <input id="bulk-tag" name="tag" maxLength={40} />
        </div>
        <button type="submit" name="change" value="add-tag">
          {t('queue.bulk.addTag')}
        </button>
        <button type="submit" name="change" value="remove-tag">
          {t('queue.bulk.removeTag')}
        </button>
      </div>
    </Form>
  )
}

function TicketTable({ resetKey }: { resetKey: number }) {
  const { rows, view, timeZone } = useLoaderData<typeof loader>()
  const t = useT()
  const table = useRef<HTMLTableElement>(null)
  // "Select all" needs the browser's script; without it the page offers no control that does nothing.
  const [scripted, setScripted] = useState(false)
  useEffect(() => setScripted(true), [])
  const selectAll = (checked: boolean) => {
    for (const box of table.current?.querySelectorAll<HTMLInputElement>('input[name="ticketId"]') ?? []) box.checked = checked
  }
  return (
    // A new key after each change clears the ticks, "select all" included.
    <div key={resetKey} className="queue-table-wrap" role="region" aria-labelledby="queue-caption" tabIndex={0}>
      <table ref={table} className="queue-table">
        <caption id="queue-caption">{t('queue.table.caption', { view: t(`queue.view.${view}`) })}</caption>
        <thead>
          <tr>
            <th scope="col" className="select">
              {scripted ? (
                <input type="checkbox" aria-label={t('queue.select.all')} onChange={(e) => selectAll(e.currentTarget.checked)} />
              ) : (
                <span className="visually-hidden">{t('queue.col.select')}</span>
              )}
            </th>
            <th scope="col">{t('queue.col.ticket')}</th>
            <th scope="col">{t('queue.col.requester')}</th>
            <th scope="col">{t('queue.col.tool')}</th>
            <th scope="col">{t('queue.col.status')}</th>
            <th scope="col">{t('queue.col.priority')}</th>
            <th scope="col">{t('queue.col.assignee')}</th>
            <th scope="col">{t('queue.col.group')}</th>
            <th scope="col">{t('queue.col.tags')}</th>
            <th scope="col">{t('queue.col.sla')}</th>
            <th scope="col">{t('queue.col.activity')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td className="select">
                <input type="checkbox" name="ticketId" value={row.id} form="bulk-form" aria-label={t('queue.select.ticket', { number: row.number })} />
              </td>
              <th scope="row">
                <Link to={`/tickets/${row.id}`}>
                  #{row.number} {row.subject}
                </Link>
              </th>
              <td>
                {row.requesterName}
                <br />
                {row.organisation ? (
                  <Link to={`/organisations/${row.organisation.slug}`} className="muted">
                    {row.organisation.name}
                  </Link>
                ) : (
                  <span className="muted">{t('queue.guest')}</span>
                )}
              </td>
              <td>{row.tool ?? '—'}</td>
              <td>
                <StatusBadge status={row.status} />
              </td>
              <td>
                <PriorityBadge priority={row.priority} />
              </td>
              <td>{row.assignee ?? <span className="muted">{t('queue.nobody')}</span>}</td>
              <td>{row.group ?? '—'}</td>
              <td>
                {row.tags.length ? (
                  <ul className="tag-list">
                    {row.tags.map((tag) => (
                      <li key={tag.tag}>
                        <Link to={`/helpdesk?${tag.href}`} className="badge">
                          {tag.tag}
                        </Link>
                      </li>
                    ))}
                  </ul>
                ) : (
                  '—'
                )}
              </td>
              <td>{row.sla ? <SlaBadge sla={row.sla} timeZone={timeZone} /> : '—'}</td>
              <td>
                <When iso={row.lastActivityAt} timeZone={timeZone} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function Pager() {
  const { page, pages, prev, next } = useLoaderData<typeof loader>()
  const t = useT()
  if (pages <= 1 && !prev) return null
  return (
    <nav aria-label={t('queue.pager')} className="queue-pager">
      {prev !== null ? (
        <Link to={`/helpdesk?${prev}`} rel="prev">
          {t('queue.pager.prev')}
        </Link>
      ) : null}
      <span>{t('queue.pager.of', { page, pages })}</span>
      {next !== null ? (
        <Link to={`/helpdesk?${next}`} rel="next">
          {t('queue.pager.next')}
        </Link>
      ) : null}
    </nav>
  )
}

function SavedViews({ result }: { result?: SubmissionResult<string[]> }) {
  const { savedViews, query, errors } = useLoaderData<typeof loader>()
  const t = useT()
  const [form, fields] = useForm<{ name: string; query: string }>({ id: 'save-view', lastResult: result, shouldValidate: 'onSubmit' })
  return (
    <section className="panel saved-views" aria-labelledby="saved-title">
      <h2 id="saved-title">{t('queue.saved.title')}</h2>
      {savedViews.length === 0 ? <p>{t('queue.saved.none')}</p> : null}
      <ul className="plain">
        {savedViews.map((v) => (
          <li key={v.id}>
            <Link to={`/helpdesk${v.query ? `?${v.query}` : ''}`} aria-current={v.query === query && errors.length === 0 ? 'page' : undefined}>
              {v.name}
            </Link>{' '}
            <ButtonForm
              schema={deleteViewSchema}
              id={`delete-view-${v.id}`}
              fields={{ intent: 'delete-view', viewId: v.id }}
              buttonClassName="danger"
              label={t('queue.saved.delete')}
              ariaLabel={t('queue.saved.deleteLabel', { name: v.name })}
            />
          </li>
        ))}
      </ul>
      {errors.length === 0 ? (
        <Form method="post" {...getFormProps(form)} noValidate className="save-view">
          <FormErrors id={form.errorId} errors={[...(form.errors ?? []), ...(fields.query.errors ?? [])]} />
          <input type="hidden" name="intent" value="save-view" />
          <input type="hidden" name="query" value={query} />
          <Field id={fields.name.id} label={t('queue.saved.name')} errors={fields.name.errors}>
            {(aria) => <input {...getInputProps(fields.name, { type: 'text' })} {...aria} maxLength={60} />}
          </Field>
          <button type="submit">{t('queue.saved.save')}</button>
        </Form>
      ) : null}
    </section>
  )
}

export default function HelpdeskQueue() {
  const { errors, tabs, view, rows, total, page, pageSize, isOperator } = useLoaderData<typeof loader>()
  const result = useActionData<typeof action>() as ActionResult | undefined
  const t = useT()
  const from = (page - 1) * pageSize + 1
  return (
    <>
      <div className="queue-head">
        <h1>{t('queue.title')}</h1>
        <nav aria-label={t('queue.title')} className="actions">
          <Link to="/helpdesk/canned">{t('queue.cannedLink')}</Link>
          <Link to="/helpdesk/settings">{t('nav.helpdeskSettings')}</Link>
          {isOperator ? <Link to="/helpdesk/privacy">{t('privacy.title')}</Link> : null}
        </nav>
      </div>
      <ActionNotice result={result} />
      {result?.errors?.length ? (
        <div className="notice error" role="alert">
          <ul className="plain">
            {result.errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {result?.bulk ? <BulkResultNotice bulk={result.bulk} /> : null}
      <ViewTabs tabs={tabs} current={view} />
      {errors.length ? (
        <div className="notice error" role="alert">
          <h2>{t('queue.error.title')}</h2>
          <ul>
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
          <Link to="/helpdesk">{t('queue.error.reset')}</Link>
        </div>
      ) : null}
      <FilterForm />
      {errors.length === 0 ? (
        <>
          <p className="results">{rows.length === 0 ? t('queue.results.none') : t('queue.results.range', { from, to: from + rows.length - 1, total })}</p>
          {rows.length ? (
            <>
              <BulkForm />
              <TicketTable resetKey={result?.bulk?.at ?? 0} />
            </>
          ) : null}
          <Pager />
        </>
      ) : null}
      <SavedViews result={result?.saveView} />
    </>
  )
}
