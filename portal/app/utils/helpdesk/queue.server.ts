/**
 * The agents' queue: which tickets a view and its filters show, how many
 * each view holds, saved views, and changes to many tickets at once.
 *
 * Everything runs as a few plain SQL queries over the Ticket table and its
 * indexes (status, assignee, group, organisation, SLA due dates, the GIN
 * indexes on tags and on the search text), so a queue of 100k tickets still
 * answers in milliseconds: the list selects only the columns it shows and
 * counts the matches only when the page is full.
 */
import { z } from 'zod'
import { Prisma, type TicketCategory, type TicketPriority, type TicketStatus } from '~/generated/prisma/client'
import { db } from '../db.server'
import { env } from '../env.server'
import { logger } from '../logger.server'
import { businessCalendar } from './settings.server'
import { parseLocalDateTime, PRIORITIES, STATUSES } from './ticket-forms'
import { slaClock, type SlaClockState } from './ticket-state'
import { normaliseTags, TicketError, updateTicket, type Actor, type TicketChanges } from './tickets.server'

// ---------------------------------------------------------------------------
// Filters

/**
 * The view tabs. `open`, `unassigned`, `mine` and `overdue` hold only tickets
 * that still need the helpdesk (new, open, pending): a closed ticket is
 * nobody's work, even when it was never answered.
 */
export const QUEUE_VIEWS = ['open', 'unassigned', 'mine', 'overdue', 'pending', 'resolved', 'closed', 'all'] as const
export type QueueView = (typeof QUEUE_VIEWS)[number]

export const QUEUE_SORTS = ['due', 'updated', 'created', 'priority'] as const
export type QueueSort = (typeof QUEUE_SORTS)[number]

/** The views that get a count on their tab; resolved, closed and all are archives, and counting them would read the whole table. */
export const COUNTED_VIEWS = ['open', 'unassigned', 'mine', 'overdue', 'pending'] as const satisfies readonly QueueView[]
export type QueueCounts = Record<(typeof COUNTED_VIEWS)[number], number>

export const QUEUE_PAGE_SIZE = 50
export const QUEUE_MAX_PAGE = 10_000
export const QUEUE_SEARCH_MAX = 200

const ACTIVE: readonly TicketStatus[] = ['NEW', 'OPEN', 'PENDING']
const ID = /^[A-Za-z0-9_-]{1,64}$/
const SLUG = /^[a-z0-9](?:[a-z0-9-]){0,62}$/
const RECIPE = /^[a-z0-9][a-z0-9-]{0,62}$/

/** A value as it may be shown inside an error message ('|' and '=' separate the message's parameters). */
function shown(value: unknown) {
  return String(value).replace(/[|=\n\r]/g, ' ').slice(0, 40)
}

/** A blank form field means "no filter", not an invalid one. */
const blank = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value)

function choice<const T extends readonly [string, ...string[]]>(param: string, values: T) {
  return z.enum(values, { error: (issue) => `queue.error.choice|param=${param}|value=${shown(issue.input)}|allowed=${values.join(', ')}` })
}

function pattern(param: string, regex: RegExp) {
  return z
    .string({ error: `queue.error.format|param=${param}|value=` })
    .trim()
    .regex(regex, { error: (issue) => `queue.error.format|param=${param}|value=${shown(issue.input)}` })
}

/**
 * The queue's filters, read from the query string
 * (`queueFilterSchema.safeParse(Object.fromEntries(searchParams))`, or
 * parseQueueFilter). Blank values mean "any"; unknown parameters are
 * ignored. Error messages are i18n keys with their parameters
 * (`queue.error.choice|param=status|value=FOO|allowed=…`).
 */
export const queueFilterSchema = z.object({
  view: z.preprocess(blank, choice('view', QUEUE_VIEWS).default('open')),
  status: z.preprocess(blank, choice('status', STATUSES).optional()),
  priority: z.preprocess(blank, choice('priority', PRIORITIES).optional()),
  /** An organisation's slug. */
  org: z.preprocess(blank, pattern('org', SLUG).optional()),
  /** The recipe id of the ticket's instance (the tool it is about). */
  tool: z.preprocess(blank, pattern('tool', RECIPE).optional()),
  tag: z.preprocess(
    blank,
    z
      .string()
      .transform((value, ctx) => {
        const [tag] = normaliseTags([value])
        if (tag) return tag
        ctx.addIssue({ code: 'custom', message: `queue.error.format|param=tag|value=${shown(value)}` })
        return z.NEVER
      })
      .optional(),
  ),
  /** A HelpdeskGroup id. */
  group: z.preprocess(blank, pattern('group', ID).optional()),
  /** A user id, or `none` for tickets nobody has. */
  assignee: z.preprocess(blank, pattern('assignee', ID).optional()),
  /** Words to find in the subject and messages, or a ticket number (`#123`, `123`). */
  q: z.preprocess(
    blank,
    z
      .string()
      .trim()
      .max(QUEUE_SEARCH_MAX, `queue.error.tooLong|param=q|max=${QUEUE_SEARCH_MAX}`)
      .optional(),
  ),
  sort: z.preprocess(blank, choice('sort', QUEUE_SORTS).default('due')),
  page: z.preprocess(
    blank,
    z.coerce
      .number({ error: `queue.error.page|max=${QUEUE_MAX_PAGE}` })
      .int(`queue.error.page|max=${QUEUE_MAX_PAGE}`)
      .min(1, `queue.error.page|max=${QUEUE_MAX_PAGE}`)
      .max(QUEUE_MAX_PAGE, `queue.error.page|max=${QUEUE_MAX_PAGE}`)
      .default(1),
  ),
})

export type QueueFilter = z.output<typeof queueFilterSchema>
/** What queryQueue and queueCounts accept: any filter left out means "any"; view, sort and page have their defaults. */
export type QueueFilterInput = Partial<QueueFilter>

export type ParsedQueueFilter = { success: true; filter: QueueFilter } | { success: false; errors: string[] }

/** The filter of a query string, or every problem with it (i18n keys with parameters, see queueFilterSchema). */
export function parseQueueFilter(query: URLSearchParams | string): ParsedQueueFilter {
  const params = typeof query === 'string' ? new URLSearchParams(query.replace(/^\?/, '')) : query
  const parsed = queueFilterSchema.safeParse(Object.fromEntries(params))
  if (parsed.success) return { success: true, filter: parsed.data }
  return { success: false, errors: [...new Set(parsed.error.issues.map((issue) => issue.message))] }
}

/** The query string of a filter, without defaults, in a fixed order: what saved views store and links carry. */
export function queueQueryString(filter: QueueFilterInput, options: { page?: boolean } = {}): string {
  const params = new URLSearchParams()
  const keys = ['view', 'q', 'status', 'priority', 'org', 'tool', 'tag', 'group', 'assignee', 'sort'] as const
  for (const key of keys) {
    const value = filter[key]
    if (value === undefined || value === '') continue
    if ((key === 'view' && value === 'open') || (key === 'sort' && value === 'due')) continue
    params.set(key, String(value))
  }
  if (options.page && filter.page && filter.page > 1) params.set('page', String(filter.page))
  return params.toString()
}

// ---------------------------------------------------------------------------
// The SQL

const sql = Prisma.sql
const active = sql`t.status IN ('NEW', 'OPEN', 'PENDING')`

/** A moment as the columns store it: timestamp(3) without zone, in UTC. */
const at = (date: Date) => sql`${date.toISOString()}::timestamp(3)`

/**
 * A first reply that is late, or a resolution that is late. A pending
 * ticket's resolution clock stands still, so it is late only when it was
 * late before the pause began (shiftForPause keeps such a breach a breach).
 */
const overdue = (now: Date) =>
  sql`((t."firstResponseAt" IS NULL AND t."firstResponseDueAt" < ${at(now)}) OR t."resolutionDueAt" < COALESCE(t."slaPausedAt", ${at(now)}))`

/** The due date that matters next (see queueSla): the first reply until there is one, then the resolution, none while pending. */
// The index "Ticket_active_nextDue_idx" (helpdesk migration) is built on exactly
// this expression, with "number" DESC: change one, change the other, or the
// default view falls back to sorting every active ticket.
const nextDue = sql`CASE
  WHEN t.status IN ('RESOLVED', 'CLOSED') THEN NULL
  WHEN t."firstResponseAt" IS NULL AND t."firstResponseDueAt" IS NOT NULL THEN t."firstResponseDueAt"
  WHEN t.status = 'PENDING' THEN NULL
  ELSE t."resolutionDueAt" END`

function viewCondition(view: QueueView, viewerUserId: string, now: Date): Prisma.Sql | null {
  switch (view) {
    case 'open':
      return active
    case 'unassigned':
      return sql`${active} AND t."assigneeId" IS NULL`
    case 'mine':
      return sql`${active} AND t."assigneeId" = ${viewerUserId}`
    case 'overdue':
      return sql`${active} AND ${overdue(now)}`
    case 'pending':
      return sql`t.status = 'PENDING'`
    case 'resolved':
      return sql`t.status = 'RESOLVED'`
    case 'closed':
      return sql`t.status = 'CLOSED'`
    case 'all':
      return null
  }
}

/** `#123` is a ticket number; a bare `123` is a number or a word in the text. */
function searchCondition(q: string): Prisma.Sql {
  const numbered = /^#\s*(\d{1,9})$/.exec(q)
  if (numbered) return sql`t.number = ${Number(numbered[1])}::int`
  // The expression matches the GIN index "Ticket_searchText_fts_idx" exactly, so the index is used.
  const text = sql`to_tsvector('simple', t."searchText") @@ websearch_to_tsquery('simple', ${q})`
  return /^\d{1,9}$/.test(q) ? sql`(t.number = ${Number(q)}::int OR ${text})` : text
}

/** Every filter but the view. */
function filterConditions(filter: QueueFilterInput): Prisma.Sql[] {
  const where: Prisma.Sql[] = []
  if (filter.status) where.push(sql`t.status = ${filter.status}::"TicketStatus"`)
  if (filter.priority) where.push(sql`t.priority = ${filter.priority}::"TicketPriority"`)
  if (filter.org) where.push(sql`t."organizationId" = (SELECT o.id FROM "Organization" o WHERE o.slug = ${filter.org})`)
  if (filter.tool) where.push(sql`t."instanceId" IN (SELECT i.id FROM "Instance" i WHERE i."recipeId" = ${filter.tool})`)
  if (filter.tag) where.push(sql`t.tags @> ARRAY[${filter.tag}]::text[]`)
  if (filter.group) where.push(sql`t."groupId" = ${filter.group}`)
  if (filter.assignee === 'none') where.push(sql`t."assigneeId" IS NULL`)
  else if (filter.assignee) where.push(sql`t."assigneeId" = ${filter.assignee}`)
  if (filter.q) where.push(searchCondition(filter.q))
  return where
}

const whereOf = (conditions: Prisma.Sql[]) => (conditions.length ? sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty)

/** The statuses a view can hold, narrowed by the status filter. */
function statusesOf(view: QueueView, status: TicketStatus | undefined): readonly TicketStatus[] {
  const ofView: Record<QueueView, readonly TicketStatus[]> = {
    open: ACTIVE,
    unassigned: ACTIVE,
    mine: ACTIVE,
    overdue: ACTIVE,
    pending: ['PENDING'],
    resolved: ['RESOLVED'],
    closed: ['CLOSED'],
    all: STATUSES,
  }
  return status ? ofView[view].filter((s) => s === status) : ofView[view]
}

/** A ticket whose next SLA target is running; only new, open and pending tickets can have one. */
const clocked = sql`(t.status IN ('NEW', 'OPEN', 'PENDING') AND ${nextDue} IS NOT NULL)`

interface Branch {
  where: Prisma.Sql | null
  /** The order within the branch: the overall order, or one that equals it for these rows and an index can give. */
  order: Prisma.Sql
}

/**
 * The order of a sort, and how to read the table for it. `due`: tickets
 * with a clock running first, soonest due first, then the others (no target
 * left, waiting, resolved, closed) newest first; `priority`: the most urgent
 * first, then as `due`; `updated`: last activity first; `created`: newest
 * first.
 *
 * Where closed tickets can be among the matches (there are many), the
 * matches are split into branches that an index reads in order or that hold
 * few rows: the tickets with a clock apart from those without (newest first
 * from the index on number), or one branch per status for the last activity
 * (the index on status and lastActivityAt). Each branch yields at most the
 * rows up to the page's end and their union is sorted once more, so the page
 * is exactly that of the one ORDER BY. Not with a search: the GIN index
 * finds the matches, and walking another index instead would run the text
 * search on every ticket it passes.
 */
function sortPlan(
  sort: QueueSort,
  statuses: readonly TicketStatus[],
  priorities: readonly TicketPriority[],
  searching: boolean,
): { order: Prisma.Sql; branches: Branch[] } {
  const canRun = statuses.some((s) => ACTIVE.includes(s))
  const split = !searching && statuses.some((s) => !ACTIVE.includes(s))
  const newest = sql`t.number DESC`
  const single = (order: Prisma.Sql) => ({ order, branches: [{ where: null, order }] })
  switch (sort) {
    case 'due': {
      const order = sql`${nextDue} ASC NULLS LAST, t.number DESC`
      if (!canRun) return single(newest)
      if (!split) return single(order)
      return { order, branches: [{ where: clocked, order }, { where: sql`NOT ${clocked}`, order: newest }] }
    }
    case 'updated': {
      const order = sql`t."lastActivityAt" DESC, t.number DESC`
      if (searching || statuses.length <= 1) return single(order)
      return { order, branches: statuses.map((s) => ({ where: sql`t.status = ${s}::"TicketStatus"`, order })) }
    }
    case 'created':
      // Numbers are handed out in order, and their unique index makes this sort free.
      return single(newest)
    case 'priority': {
      // The enum is declared LOW, NORMAL, HIGH, URGENT.
      const order = sql`t.priority DESC, ${nextDue} ASC NULLS LAST, t.number DESC`
      const due = sql`${nextDue} ASC NULLS LAST, t.number DESC`
      if (!split) return single(order)
      return {
        order,
        branches: priorities.flatMap((p) => {
          const mine = sql`t.priority = ${p}::"TicketPriority"`
          if (!canRun) return [{ where: mine, order: newest }]
          return [
            { where: sql`${mine} AND ${clocked}`, order: due },
            { where: sql`${mine} AND NOT ${clocked}`, order: newest },
          ]
        }),
      }
    }
  }
}

/** The selected columns of one page of tickets, in the order of `sort`. */
function pageQuery(conditions: Prisma.Sql[], filter: QueueFilterInput, limit: number, offset: number) {
  const statuses = statusesOf(filter.view ?? 'open', filter.status)
  const { order, branches } = sortPlan(filter.sort ?? 'due', statuses, filter.priority ? [filter.priority] : PRIORITIES, Boolean(filter.q))
  const columns = sql`t.id, t.number, t.subject, t.status, t.priority, t.category, t."requesterName", t.tags, t."lastActivityAt",
    t."createdAt", t."firstResponseDueAt", t."firstResponseAt", t."resolutionDueAt", t."pendingUntil", t."slaPausedAt",
    t."organizationId", t."instanceId", t."assigneeId", t."groupId"`
  const branchWhere = (branch: Branch) => whereOf([...conditions, ...(branch.where ? [branch.where] : [])])
  if (branches.length === 1 && branches[0]) {
    return { order, query: sql`SELECT ${columns} FROM "Ticket" t ${branchWhere(branches[0])} ORDER BY ${order} LIMIT ${limit}::int OFFSET ${offset}::int` }
  }
  const union = Prisma.join(
    branches.map((b) => sql`(SELECT ${columns} FROM "Ticket" t ${branchWhere(b)} ORDER BY ${b.order} LIMIT ${offset + limit}::int)`),
    ' UNION ALL ',
  )
  return { order, query: sql`SELECT * FROM (${union}) t ORDER BY ${order} LIMIT ${limit}::int OFFSET ${offset}::int` }
}

// ---------------------------------------------------------------------------
// The queue

export interface QueueRow {
  id: string
  number: number
  subject: string
  status: TicketStatus
  priority: TicketPriority
  category: TicketCategory
  requesterName: string
  organisation: { name: string; slug: string } | null
  /** The recipe id of the linked instance, if any. */
  tool: string | null
  assignee: { id: string; name: string } | null
  group: { id: string; name: string } | null
  tags: string[]
  lastActivityAt: Date
  createdAt: Date
  firstResponseDueAt: Date | null
  firstResponseAt: Date | null
  resolutionDueAt: Date | null
  pendingUntil: Date | null
  slaPausedAt: Date | null
}

export interface QueuePage {
  rows: QueueRow[]
  /** How many tickets match across all pages. */
  total: number
  page: number
  pageSize: number
}

interface RawRow extends Omit<QueueRow, 'organisation' | 'assignee' | 'group'> {
  orgName: string | null
  orgSlug: string | null
  assigneeId: string | null
  assigneeName: string | null
  groupId: string | null
  groupName: string | null
}

/**
 * One page of the queue for an agent: the tickets of `filter.view` that
 * match every other filter, sorted by `filter.sort`, `QUEUE_PAGE_SIZE` a
 * page. `viewerUserId` is whose tickets `mine` means. Pass a filter parsed
 * by queueFilterSchema, or a partial one for the defaults (view open, sort
 * due, page 1). `total` costs a count query only when the page is full (or
 * empty past the first page); otherwise it follows from the rows.
 *
 * Signature kept stable for the 100k-ticket benchmark:
 * `queryQueue(filter, viewerUserId, { now? }) => Promise<{ rows, total, page, pageSize }>`.
 */
export async function queryQueue(filter: QueueFilterInput, viewerUserId: string, options: { now?: Date; pageSize?: number } = {}): Promise<QueuePage> {
  const now = options.now ?? new Date()
  const pageSize = options.pageSize ?? QUEUE_PAGE_SIZE
  const page = filter.page ?? 1
  const view = viewCondition(filter.view ?? 'open', viewerUserId, now)
  const conditions = [...(view ? [view] : []), ...filterConditions(filter)]
  const { order, query } = pageQuery(conditions, filter, pageSize, (page - 1) * pageSize)
  // The page is cut from the Ticket table alone, and only its rows are joined to names.
  const raw = await db().$queryRaw<RawRow[]>`
    WITH t AS (${query})
    SELECT t.id, t.number, t.subject, t.status::text AS status, t.priority::text AS priority, t.category::text AS category,
      t."requesterName", t.tags, t."lastActivityAt", t."createdAt", t."firstResponseDueAt", t."firstResponseAt",
      t."resolutionDueAt", t."pendingUntil", t."slaPausedAt",
      o.name AS "orgName", o.slug AS "orgSlug", i."recipeId" AS tool,
      t."assigneeId", u.name AS "assigneeName", t."groupId", g.name AS "groupName"
    FROM t
    LEFT JOIN "Organization" o ON o.id = t."organizationId"
    LEFT JOIN "Instance" i ON i.id = t."instanceId"
    LEFT JOIN "User" u ON u.id = t."assigneeId"
    LEFT JOIN "HelpdeskGroup" g ON g.id = t."groupId"
    ORDER BY ${order}`
  const rows = raw.map(
    ({ orgName, orgSlug, assigneeId, assigneeName, groupId, groupName, ...row }): QueueRow => ({
      ...row,
      organisation: orgName !== null && orgSlug !== null ? { name: orgName, slug: orgSlug } : null,
      assignee: assigneeId && assigneeName !== null ? { id: assigneeId, name: assigneeName } : null,
      group: groupId && groupName !== null ? { id: groupId, name: groupName } : null,
    }),
  )
  const needsCount = rows.length === pageSize || (rows.length === 0 && page > 1)
  const total = needsCount ? await countWhere(whereOf(conditions)) : (page - 1) * pageSize + rows.length
  return { rows, total, page, pageSize }
}

async function countWhere(where: Prisma.Sql) {
  const [row] = await db().$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "Ticket" t ${where}`
  return row?.n ?? 0
}

/**
 * How many tickets each counted view holds, for the tabs. With `within`,
 * under those filters too (its view, sort and page are ignored), so a tab's
 * count is what clicking it shows. One query over the active tickets.
 */
export async function queueCounts(viewerUserId: string, within: QueueFilterInput = {}, options: { now?: Date } = {}): Promise<QueueCounts> {
  const now = options.now ?? new Date()
  const where = whereOf([active, ...filterConditions(within)])
  const [row] = await db().$queryRaw<QueueCounts[]>`
    SELECT count(*)::int AS open,
      count(*) FILTER (WHERE t."assigneeId" IS NULL)::int AS unassigned,
      count(*) FILTER (WHERE t."assigneeId" = ${viewerUserId})::int AS mine,
      count(*) FILTER (WHERE ${overdue(now)})::int AS overdue,
      count(*) FILTER (WHERE t.status = 'PENDING')::int AS pending
    FROM "Ticket" t ${where}`
  return row ?? { open: 0, unassigned: 0, mine: 0, overdue: 0, pending: 0 }
}

export interface QueueSla {
  target: 'firstResponse' | 'resolution'
  state: SlaClockState | 'paused'
  /** Business minutes to the due date; negative once it has passed (a breach outside business hours can read 0). */
  businessMinutesLeft: number
  dueAt: Date
}

/**
 * The countdown a queue row shows: the first reply until there is one, then
 * the resolution; paused while pending (unless it was late before the pause);
 * none once resolved or closed. The same order the `due` sort uses.
 */
export function queueSla(
  row: Pick<QueueRow, 'status' | 'firstResponseDueAt' | 'firstResponseAt' | 'resolutionDueAt' | 'slaPausedAt'>,
  now = new Date(),
): QueueSla | null {
  if (row.status === 'RESOLVED' || row.status === 'CLOSED') return null
  const calendar = businessCalendar()
  const warnBeforeMinutes = env().HELPDESK_SLA_WARN_MINUTES
  if (!row.firstResponseAt && row.firstResponseDueAt) {
    const clock = slaClock(calendar, { dueAt: row.firstResponseDueAt, now, warnBeforeMinutes })
    return { target: 'firstResponse', state: clock.state, businessMinutesLeft: clock.businessMinutesLeft, dueAt: row.firstResponseDueAt }
  }
  if (!row.resolutionDueAt) return null
  if (row.status === 'PENDING') {
    const pausedAt = row.slaPausedAt ?? now
    if (row.resolutionDueAt < pausedAt) {
      const clock = slaClock(calendar, { dueAt: row.resolutionDueAt, now: pausedAt, warnBeforeMinutes })
      return { target: 'resolution', state: 'breached', businessMinutesLeft: clock.businessMinutesLeft, dueAt: row.resolutionDueAt }
    }
    return { target: 'resolution', state: 'paused', businessMinutesLeft: 0, dueAt: row.resolutionDueAt }
  }
  const clock = slaClock(calendar, { dueAt: row.resolutionDueAt, now, warnBeforeMinutes })
  return { target: 'resolution', state: clock.state, businessMinutesLeft: clock.businessMinutesLeft, dueAt: row.resolutionDueAt }
}

// ---------------------------------------------------------------------------
// Saved views

export type QueueErrorKey = 'queue.saved.error.notFound' | 'queue.saved.error.nameTaken' | 'queue.saved.error.tooMany'

export class QueueError extends Error {
  constructor(
    readonly key: QueueErrorKey,
    readonly status = 409,
    readonly vars: Record<string, string> = {},
  ) {
    super(key)
    this.name = 'QueueError'
  }
}

export const SAVED_VIEWS_MAX = 50

/** A saved view as a form sends it: a name and the queue's query string, checked with queueFilterSchema. */
export const savedViewSchema = z.object({
  name: z
    .string({ error: 'form.required' })
    .trim()
    .min(1, 'form.required')
    .max(60, 'form.tooLong|max=60'),
  query: z
    .string()
    .max(1000, 'form.tooLong|max=1000')
    .default('')
    .transform((query, ctx) => {
      const parsed = parseQueueFilter(query)
      if (!parsed.success) {
        for (const message of parsed.errors) ctx.addIssue({ code: 'custom', message })
        return z.NEVER
      }
      // Stored without the page: a saved view opens at its start.
      return queueQueryString(parsed.filter)
    }),
})

export type SavedViewInput = z.input<typeof savedViewSchema>

export function savedViews(ownerId: string) {
  return db().savedTicketView.findMany({ where: { ownerId }, orderBy: { name: 'asc' }, select: { id: true, name: true, query: true } })
}

/**
 * Saves the current filters under a name; a view of the same name is
 * replaced, so "save" twice keeps one. Throws a ZodError for an invalid
 * name or query (parse with savedViewSchema first to show it in a form).
 */
export async function saveView(ownerId: string, input: SavedViewInput) {
  const { name, query } = savedViewSchema.parse(input)
  return db().$transaction(async (tx) => {
    const existing = await tx.savedTicketView.findUnique({ where: { ownerId_name: { ownerId, name } } })
    if (existing) {
      const view = await tx.savedTicketView.update({ where: { id: existing.id }, data: { query }, select: { id: true, name: true, query: true } })
      return { view, replaced: true }
    }
    if ((await tx.savedTicketView.count({ where: { ownerId } })) >= SAVED_VIEWS_MAX) {
      throw new QueueError('queue.saved.error.tooMany', 409, { max: String(SAVED_VIEWS_MAX) })
    }
    const view = await tx.savedTicketView.create({ data: { ownerId, name, query }, select: { id: true, name: true, query: true } })
    return { view, replaced: false }
  })
}

/** Renames a view or changes its filters; only its owner can. */
export async function updateSavedView(ownerId: string, viewId: string, input: SavedViewInput) {
  const { name, query } = savedViewSchema.parse(input)
  const view = await db().savedTicketView.findFirst({ where: { id: viewId, ownerId } })
  if (!view) throw new QueueError('queue.saved.error.notFound', 404)
  try {
    return await db().savedTicketView.update({ where: { id: view.id }, data: { name, query }, select: { id: true, name: true, query: true } })
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new QueueError('queue.saved.error.nameTaken', 409, { name })
    throw error
  }
}

/** Deletes one of the owner's views; someone else's view is "not found", like one that never was. */
export async function deleteSavedView(ownerId: string, viewId: string) {
  const { count } = await db().savedTicketView.deleteMany({ where: { id: viewId, ownerId } })
  if (count === 0) throw new QueueError('queue.saved.error.notFound', 404)
}

// ---------------------------------------------------------------------------
// Bulk changes

export const BULK_MAX = 100

export type BulkChange =
  | { change: 'assign-me' }
  | { change: 'assign'; assigneeId: string }
  | { change: 'unassign' }
  | { change: 'status'; status: TicketStatus; pendingUntil?: Date }
  | { change: 'priority'; priority: TicketPriority }
  | { change: 'group'; groupId: string | null }
  | { change: 'add-tag'; tag: string }
  | { change: 'remove-tag'; tag: string }

export const BULK_CHANGES = ['assign-me', 'assign', 'unassign', 'status', 'priority', 'group', 'add-tag', 'remove-tag'] as const

const rowId = z.string().regex(ID, 'error.400')

/**
 * The bulk form: the ticked tickets (`ticketId`, repeated), the pressed
 * button (`change`) and the field that change needs. A pending status needs
 * a date (typed in the helpdesk's zone) in the future. Parses to
 * `{ ticketIds, change: BulkChange }`.
 */
export const bulkFormSchema = z
  .object({
    ticketId: z.array(rowId, { error: 'queue.bulk.error.none' }).min(1, 'queue.bulk.error.none').max(BULK_MAX, `queue.bulk.error.tooMany|max=${BULK_MAX}`),
    change: z.enum(BULK_CHANGES, { error: 'error.400' }),
    // The fields of the other buttons come along empty.
    assigneeId: z.preprocess(blank, rowId.optional()),
    status: z.preprocess(blank, z.enum(STATUSES, { error: 'form.choice' }).optional()),
    pendingUntil: z.preprocess(
      blank,
      z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$/, 'queue.bulk.error.date')
        .optional(),
    ),
    priority: z.preprocess(blank, z.enum(PRIORITIES, { error: 'form.choice' }).optional()),
    groupId: z.preprocess(blank, rowId.optional()),
    tag: z.preprocess(blank, z.string().trim().max(40, 'form.tooLong|max=40').optional()),
  })
  .transform((form, ctx): { ticketIds: string[]; change: BulkChange } => {
    const ticketIds = [...new Set(form.ticketId)]
    const refuse = (path: string, message: string) => {
      ctx.addIssue({ code: 'custom', path: [path], message })
      return z.NEVER
    }
    switch (form.change) {
      case 'assign-me':
      case 'unassign':
        return { ticketIds, change: { change: form.change } }
      case 'assign':
        return form.assigneeId ? { ticketIds, change: { change: 'assign', assigneeId: form.assigneeId } } : refuse('assigneeId', 'queue.bulk.error.assignee')
      case 'status': {
        if (!form.status) return refuse('status', 'form.choice')
        if (form.status !== 'PENDING') return { ticketIds, change: { change: 'status', status: form.status } }
        if (!form.pendingUntil) return refuse('pendingUntil', 'queue.bulk.error.pendingDate')
        const pendingUntil = parseLocalDateTime(form.pendingUntil, env().HELPDESK_TIMEZONE)
        if (Number.isNaN(pendingUntil.getTime())) return refuse('pendingUntil', 'queue.bulk.error.date')
        if (pendingUntil.getTime() <= Date.now()) return refuse('pendingUntil', 'queue.bulk.error.pendingPast')
        return { ticketIds, change: { change: 'status', status: 'PENDING', pendingUntil } }
      }
      case 'priority':
        return form.priority ? { ticketIds, change: { change: 'priority', priority: form.priority } } : refuse('priority', 'form.choice')
      case 'group':
        return form.groupId ? { ticketIds, change: { change: 'group', groupId: form.groupId === 'none' ? null : form.groupId } } : refuse('groupId', 'form.choice')
      case 'add-tag':
      case 'remove-tag': {
        const [tag] = normaliseTags([form.tag ?? ''])
        return tag ? { ticketIds, change: { change: form.change, tag } } : refuse('tag', 'queue.bulk.error.tag')
      }
    }
  })

export interface BulkTicket {
  id: string
  number: number
}

export interface BulkRefusal {
  id: string
  /** Null when no such ticket exists. */
  number: number | null
  /** A TicketError key, or 'queue.bulk.error.failed' for a fault on our side (logged). */
  key: string
  vars: Record<string, string>
}

export interface BulkResult {
  changed: BulkTicket[]
  /** Already as asked (the same status, the tag already there …). */
  unchanged: BulkTicket[]
  refused: BulkRefusal[]
}

function changesFor(actor: Actor, change: BulkChange, tags: string[]): TicketChanges {
  switch (change.change) {
    case 'assign-me':
      if (!actor.userId) throw new TicketError('ticket.error.assignee', 400)
      return { assigneeId: actor.userId }
    case 'assign':
      return { assigneeId: change.assigneeId }
    case 'unassign':
      return { assigneeId: null }
    case 'status':
      if (change.status === 'PENDING' && !change.pendingUntil) throw new TicketError('ticket.error.pendingInPast', 400)
      return { status: change.status, ...(change.pendingUntil ? { pendingUntil: change.pendingUntil } : {}) }
    case 'priority':
      return { priority: change.priority }
    case 'group':
      return { groupId: change.groupId }
    case 'add-tag':
      return { tags: [...tags, change.tag] }
    case 'remove-tag':
      return { tags: tags.filter((t) => t !== change.tag) }
  }
}

/**
 * Applies one change to many tickets through updateTicket (state machine,
 * history lines, SLA), each ticket in a transaction of its own: a refusal
 * (a closed ticket, an assignee who is no agent) is reported for that
 * ticket and the others go ahead. Results are in ticket-number order.
 */
export async function bulkUpdate(actor: Actor, ticketIds: string[], change: BulkChange): Promise<BulkResult> {
  const ids = [...new Set(ticketIds)].slice(0, BULK_MAX)
  const numbers = new Map(
    (await db().ticket.findMany({ where: { id: { in: ids } }, select: { id: true, number: true } })).map((t) => [t.id, t.number]),
  )
  const result: BulkResult = { changed: [], unchanged: [], refused: [] }
  for (const id of ids) {
    const number = numbers.get(id)
    if (number === undefined) {
      result.refused.push({ id, number: null, key: 'ticket.error.notFound', vars: {} })
      continue
    }
    try {
      const changed = await db().$transaction(async (tx) => {
        // Locked first, so a tag added by someone else meanwhile is not lost.
        await tx.$queryRaw`SELECT id FROM "Ticket" WHERE id = ${id} FOR UPDATE`
        const before = await tx.ticket.findUnique({ where: { id }, select: { tags: true, updatedAt: true } })
        if (!before) throw new TicketError('ticket.error.notFound', 404)
        const after = await updateTicket(actor, id, changesFor(actor, change, before.tags), tx)
        return after.updatedAt.getTime() !== before.updatedAt.getTime()
      })
      result[changed ? 'changed' : 'unchanged'].push({ id, number })
    } catch (error) {
      if (error instanceof TicketError) {
        result.refused.push({ id, number, key: error.key, vars: error.vars })
      } else {
        logger.error({ err: error, ticketId: id, change: change.change }, 'bulk change of a ticket failed')
        result.refused.push({ id, number, key: 'queue.bulk.error.failed', vars: {} })
      }
    }
  }
  const byNumber = (a: { number: number | null }, b: { number: number | null }) => (a.number ?? 0) - (b.number ?? 0)
  result.changed.sort(byNumber)
  result.unchanged.sort(byNumber)
  result.refused.sort(byNumber)
  return result
}
