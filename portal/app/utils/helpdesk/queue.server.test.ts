import { parseWithZod } from '@conform-to/zod/v4'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Ticket, TicketPriority } from '~/generated/prisma/client'
import { db, disconnectDb } from '../db.server'
import { translator } from '../i18n'
import {
  bulkFormSchema,
  bulkUpdate,
  deleteSavedView,
  parseQueueFilter,
  QueueError,
  queryQueue,
  queueCounts,
  queueQueryString,
  queueSla,
  savedViews,
  saveView,
  updateSavedView,
  type QueueFilterInput,
} from './queue.server'
import { addMessage, createTicket, SYSTEM, type Actor } from './tickets.server'

// Real Postgres from the test harness, shared with other test files: every
// query here is narrowed to this run's organisations or tag, so tickets of
// others never count.

const unique = Date.now().toString(36)
const runTag = `queue-${unique}`
const word = `zebrafish${unique}`
let n = 0
const HOUR = 3_600_000
const now = new Date()
const at = (hours: number) => new Date(now.getTime() + hours * HOUR)

async function person(role: string, realmRoles: string[] = []) {
  const tag = `${role}-${unique}-${++n}`
  return db().user.create({ data: { keycloakId: `test-${tag}`, email: `${tag}@queue.test`, name: `Test ${tag}`, realmRoles } })
}

async function organisation(label: string) {
  const slug = `queue-${unique}-${label}`
  return db().organization.create({ data: { slug, name: `Coop ${label} ${unique}`, description: 'Test', sector: 'energy', city: 'Utrecht' } })
}

let agent: { id: string; name: string; email: string }
let colleague: { id: string; name: string; email: string }
let member: { id: string; name: string; email: string }
let actor: Actor
let orgA: { id: string; slug: string }
let orgB: { id: string; slug: string }
const tickets: Record<string, Ticket> = {}

async function ticket(
  label: string,
  org: { id: string },
  options: { subject?: string; body?: string; priority?: TicketPriority; instanceId?: string; tags?: string[]; groupId?: string } = {},
) {
  const created = await createTicket(SYSTEM, {
    organizationId: org.id,
    subject: options.subject ?? `Ticket ${label}`,
    body: options.body ?? `About ${label}.`,
    category: 'QUESTION',
    priority: options.priority ?? 'NORMAL',
    instanceId: options.instanceId,
    requester: { userId: member.id, email: member.email, name: member.name, language: 'en' },
    tags: [runTag, ...(options.tags ?? [])],
    groupId: options.groupId,
  })
  tickets[label] = created
  return created
}

/** The ticket labels a query shows, in its order. */
async function labels(filter: QueueFilterInput, viewer = agent.id) {
  const page = await queryQueue(filter, viewer, { now })
  const byId = new Map(Object.entries(tickets).map(([label, t]) => [t.id, label]))
  return page.rows.map((row) => byId.get(row.id) ?? `other #${row.number}`)
}

/** This run's tickets only, by tag. */
const own = (filter: QueueFilterInput = {}) => labels({ ...filter, tag: runTag })

beforeAll(async () => {
  agent = await person('agent', ['helpdesk-agent'])
  colleague = await person('colleague', ['platform-operator'])
  member = await person('member')
  actor = { userId: agent.id, name: agent.name, email: agent.email, agent: true }
  orgA = await organisation('a')
  orgB = await organisation('b')
  await db().membership.create({ data: { userId: member.id, organizationId: orgA.id, role: 'MEMBER' } })
  await db().instance.create({ data: { id: `nextcloud-queue-${unique}`, organizationId: orgA.id, recipeId: 'nextcloud', adminEmail: member.email } })

  // Due dates are set by hand below, so the order does not depend on today's business hours.
  await ticket('newA', orgA, { subject: 'Calendar does not sync', instanceId: `nextcloud-queue-${unique}` })
  await ticket('openMine', orgA, { priority: 'HIGH', tags: [`billing-${unique}`], groupId: 'hosting' })
  await ticket('pendingColleague', orgA, { priority: 'LOW' })
  await ticket('lateReply', orgA)
  await ticket('lateSolution', orgA, { priority: 'URGENT' })
  await ticket('urgentB', orgB, { priority: 'URGENT', subject: `Mail bounces ${word}` })
  await ticket('resolvedB', orgB)
  await ticket('closedB', orgB)

  // A word from a reply, on a ticket of each organisation.
  await addMessage(actor, tickets.newA!.id, { body: `Have you tried the ${word} setting?`, internal: false })

  const set = (label: string, data: Parameters<ReturnType<typeof db>['ticket']['update']>[0]['data']) =>
    db().ticket.update({ where: { id: tickets[label]!.id }, data })
  await set('newA', { status: 'NEW', firstResponseAt: null, firstResponseDueAt: at(3), resolutionDueAt: at(30) })
  await set('openMine', { status: 'OPEN', assigneeId: agent.id, firstResponseAt: at(-1), firstResponseDueAt: at(1), resolutionDueAt: at(5) })
  // Pending since two hours; its resolution was due an hour ago, but the clock stood still before that.
  await set('pendingColleague', {
    status: 'PENDING',
    assigneeId: colleague.id,
    pendingUntil: at(48),
    slaPausedAt: at(-2),
    firstResponseAt: at(-3),
    firstResponseDueAt: at(-2.5),
    resolutionDueAt: at(-1),
  })
  await set('lateReply', { status: 'OPEN', firstResponseAt: null, firstResponseDueAt: at(-0.5), resolutionDueAt: at(20) })
  await set('lateSolution', { status: 'OPEN', assigneeId: agent.id, firstResponseAt: at(-5), firstResponseDueAt: at(-4), resolutionDueAt: at(-2) })
  await set('urgentB', { status: 'NEW', firstResponseAt: null, firstResponseDueAt: at(2), resolutionDueAt: at(8) })
  await set('resolvedB', { status: 'RESOLVED', resolvedAt: at(-1), firstResponseAt: at(-3), firstResponseDueAt: at(-10), resolutionDueAt: at(-5) })
  await set('closedB', { status: 'CLOSED', closedAt: at(-1), firstResponseAt: null, firstResponseDueAt: at(-10), resolutionDueAt: at(-5) })
})

afterAll(async () => {
  const orgs = { in: [orgA.id, orgB.id] }
  await db().ticket.deleteMany({ where: { organizationId: orgs } })
  await db().instance.deleteMany({ where: { organizationId: orgs } })
  await db().organization.deleteMany({ where: { id: orgs } })
  await db().outboxMail.deleteMany({ where: { to: { contains: unique } } })
  await db().user.deleteMany({ where: { email: { endsWith: '@queue.test', contains: unique } } })
  await disconnectDb()
})

describe('views', () => {
  it('open holds new, open and pending tickets, soonest SLA due first', async () => {
    // newA (first reply in 3 h), openMine (resolution in 5 h), lateReply (first reply 30 min ago),
    // lateSolution (resolution 2 h ago), urgentB (first reply in 2 h); pending has no running clock: last.
    expect(await own()).toEqual(['lateSolution', 'lateReply', 'urgentB', 'newA', 'openMine', 'pendingColleague'])
  })

  it('unassigned, mine, pending, resolved, closed and all', async () => {
    expect(await own({ view: 'unassigned' })).toEqual(['lateReply', 'urgentB', 'newA'])
    expect(await own({ view: 'mine' })).toEqual(['lateSolution', 'openMine'])
    expect(await labels({ view: 'mine', tag: runTag }, colleague.id)).toEqual(['pendingColleague'])
    expect(await own({ view: 'pending' })).toEqual(['pendingColleague'])
    expect(await own({ view: 'resolved' })).toEqual(['resolvedB'])
    expect(await own({ view: 'closed' })).toEqual(['closedB'])
    expect((await own({ view: 'all' })).sort()).toEqual(Object.keys(tickets).sort())
  })

  it('overdue: a late first reply or a late resolution of a ticket still going on', async () => {
    // Not closedB (never answered, but closed) nor pendingColleague (its clock stopped before the due date).
    expect(await own({ view: 'overdue' })).toEqual(['lateSolution', 'lateReply'])
  })

  it('a pending ticket that was late before the pause is overdue', async () => {
    const id = tickets.pendingColleague!.id
    await db().ticket.update({ where: { id }, data: { slaPausedAt: at(-0.5) } })
    try {
      expect(await own({ view: 'overdue' })).toEqual(['lateSolution', 'lateReply', 'pendingColleague'])
    } finally {
      await db().ticket.update({ where: { id }, data: { slaPausedAt: at(-2) } })
    }
  })

  it('counts each tab under the other filters', async () => {
    expect(await queueCounts(agent.id, { tag: runTag }, { now })).toEqual({ open: 6, unassigned: 3, mine: 2, overdue: 2, pending: 1 })
    expect(await queueCounts(colleague.id, { org: orgA.slug }, { now })).toEqual({ open: 5, unassigned: 2, mine: 1, overdue: 2, pending: 1 })
    expect(await queueCounts(agent.id, { org: orgB.slug }, { now })).toEqual({ open: 1, unassigned: 1, mine: 0, overdue: 0, pending: 0 })
  })
})

describe('filters', () => {
  it('status, priority, organisation, tool, tag, group and assignee each narrow the list', async () => {
    expect(await own({ view: 'all', status: 'NEW' })).toEqual(['urgentB', 'newA'])
    expect(await own({ view: 'all', priority: 'URGENT' })).toEqual(['lateSolution', 'urgentB'])
    // Resolved and closed tickets have no clock running: after the others, newest first.
    expect(await labels({ view: 'all', org: orgB.slug })).toEqual(['urgentB', 'closedB', 'resolvedB'])
    expect(await labels({ view: 'closed', org: orgB.slug })).toEqual(['closedB'])
    expect(await labels({ view: 'all', tool: 'nextcloud', org: orgA.slug })).toEqual(['newA'])
    expect(await labels({ view: 'all', tag: `billing-${unique}` })).toEqual(['openMine'])
    expect(await own({ group: 'hosting' })).toEqual(['openMine'])
    expect(await own({ assignee: colleague.id })).toEqual(['pendingColleague'])
    expect(await own({ assignee: 'none' })).toEqual(['lateReply', 'urgentB', 'newA'])
    // Filters add up.
    expect(await own({ view: 'unassigned', org: orgA.slug, status: 'OPEN' })).toEqual(['lateReply'])
    expect(await labels({ org: `queue-${unique}-nobody` })).toEqual([])
    // A status the view cannot hold finds nothing, in every sort.
    for (const sort of ['due', 'updated', 'created', 'priority'] as const) expect(await own({ view: 'closed', status: 'OPEN', sort })).toEqual([])
  })

  it('full text finds a word from a reply, and the organisation filter keeps the other organisation out', async () => {
    expect((await labels({ view: 'all', q: word })).sort()).toEqual(['newA', 'urgentB'])
    expect(await labels({ view: 'all', q: word, org: orgA.slug })).toEqual(['newA'])
    // Web search syntax: a phrase, and a word left out.
    expect(await own({ q: '"does not sync"' })).toEqual(['newA'])
    expect((await labels({ view: 'all', q: `${word} -calendar` })).sort()).toEqual(['urgentB'])
    expect(await own({ q: 'nosuchword' })).toEqual([])
  })

  it('finds a ticket by its number, with or without #', async () => {
    const number = tickets.openMine!.number
    expect(await labels({ view: 'all', q: `#${number}` })).toEqual(['openMine'])
    expect(await own({ view: 'all', q: String(number) })).toEqual(['openMine'])
    expect(await labels({ view: 'all', q: '#999999999' })).toEqual([])
  })

  it('sorts by priority, creation and last activity', async () => {
    expect(await own({ sort: 'priority' })).toEqual(['lateSolution', 'urgentB', 'openMine', 'lateReply', 'newA', 'pendingColleague'])
    expect(await own({ sort: 'created' })).toEqual(['urgentB', 'lateSolution', 'lateReply', 'pendingColleague', 'openMine', 'newA'])
    await db().ticket.update({ where: { id: tickets.pendingColleague!.id }, data: { lastActivityAt: at(1) } })
    expect((await own({ sort: 'updated' }))[0]).toBe('pendingColleague')
  })

  it('pages, counting only when a page is full', async () => {
    const first = await queryQueue({ tag: runTag }, agent.id, { now, pageSize: 4 })
    expect(first.rows.map((r) => r.id)).toEqual(['lateSolution', 'lateReply', 'urgentB', 'newA'].map((l) => tickets[l]!.id))
    expect(first).toMatchObject({ total: 6, page: 1, pageSize: 4 })
    const second = await queryQueue({ tag: runTag, page: 2 }, agent.id, { now, pageSize: 4 })
    expect(second.rows.map((r) => r.id)).toEqual(['openMine', 'pendingColleague'].map((l) => tickets[l]!.id))
    expect(second.total).toBe(6)
    const beyond = await queryQueue({ tag: runTag, page: 9 }, agent.id, { now, pageSize: 4 })
    expect(beyond).toMatchObject({ rows: [], total: 6, page: 9 })
  })

  it('returns what the table shows', async () => {
    const [row] = (await queryQueue({ view: 'all', tool: 'nextcloud', org: orgA.slug }, agent.id, { now })).rows
    expect(row).toMatchObject({
      id: tickets.newA!.id,
      number: tickets.newA!.number,
      subject: 'Calendar does not sync',
      status: 'NEW',
      priority: 'NORMAL',
      organisation: { slug: orgA.slug },
      tool: 'nextcloud',
      assignee: null,
      group: { id: 'first-line', name: 'First line' },
      tags: [runTag],
      firstResponseAt: null,
    })
    expect(row!.firstResponseDueAt?.getTime()).toBe(at(3).getTime())
    const [mine] = (await queryQueue({ view: 'all', q: `#${tickets.openMine!.number}` }, agent.id, { now })).rows
    expect(mine!.assignee).toEqual({ id: agent.id, name: agent.name })
    expect(mine!.group?.name).toBe('Hosting')
  })
})

describe('queueSla', () => {
  const row = { status: 'OPEN' as const, firstResponseAt: null, firstResponseDueAt: at(-1), resolutionDueAt: at(10), slaPausedAt: null }

  it('shows the first reply until there is one, then the resolution; paused while pending; nothing once resolved', () => {
    expect(queueSla(row, now)).toMatchObject({ target: 'firstResponse', state: 'breached' })
    expect(queueSla({ ...row, firstResponseAt: at(-2) }, now)).toMatchObject({ target: 'resolution' })
    expect(queueSla({ ...row, firstResponseAt: at(-2), status: 'PENDING', slaPausedAt: at(-1) }, now)).toMatchObject({ target: 'resolution', state: 'paused' })
    expect(queueSla({ ...row, firstResponseAt: at(-2), status: 'PENDING', slaPausedAt: at(11) }, now)).toMatchObject({ state: 'breached' })
    expect(queueSla({ ...row, status: 'RESOLVED' }, now)).toBeNull()
  })
})

describe('parseQueueFilter', () => {
  const en = translator('en')
  const words = (query: string) => {
    const parsed = parseQueueFilter(query)
    if (parsed.success) throw new Error(`${query} was accepted`)
    return parsed.errors.map((e) => {
      const [key, ...params] = e.split('|')
      return en(key as 'queue.error.choice', Object.fromEntries(params.map((p) => p.split('=') as [string, string])))
    })
  }

  it('has defaults and ignores blanks and unknown parameters', () => {
    expect(parseQueueFilter('')).toEqual({ success: true, filter: { view: 'open', sort: 'due', page: 1 } })
    expect(parseQueueFilter('?view=mine&status=&q=%20&utm_source=mail&page=2&tag=Needs%20Reply')).toEqual({
      success: true,
      filter: { view: 'mine', sort: 'due', page: 2, tag: 'needs-reply' },
    })
  })

  it('refuses bad values with a message that names the filter, the value and what is allowed', () => {
    expect(words('view=everything')).toEqual([
      'The filter “view” cannot be “everything”. Choose one of: open, unassigned, mine, overdue, pending, resolved, closed, all.',
    ])
    expect(words('status=FOO&priority=urgent&sort=random')).toEqual([
      'The filter “status” cannot be “FOO”. Choose one of: NEW, OPEN, PENDING, RESOLVED, CLOSED.',
      'The filter “priority” cannot be “urgent”. Choose one of: LOW, NORMAL, HIGH, URGENT.',
      'The filter “sort” cannot be “random”. Choose one of: due, updated, created, priority.',
    ])
    expect(words('page=0')).toEqual(['The page must be a whole number from 1 to 10000.'])
    expect(words('page=abc')).toEqual(['The page must be a whole number from 1 to 10000.'])
    expect(words('org=Not%20A%20Slug&tag=!!')).toEqual(['“Not A Slug” is not a valid value for the filter “org”.', '“!!” is not a valid value for the filter “tag”.'])
    expect(words(`q=${'x'.repeat(201)}`)).toEqual(['The filter “q” may be at most 200 characters long.'])
    // A value that would split the message's parameters is shown, not obeyed.
    expect(words('status=a|b=c')).toEqual(['The filter “status” cannot be “a b c”. Choose one of: NEW, OPEN, PENDING, RESOLVED, CLOSED.'])
  })

  it('writes a filter back as a query string without its defaults', () => {
    const parsed = parseQueueFilter('sort=due&view=open&priority=HIGH&page=3&q=a b')
    if (!parsed.success) throw new Error('refused')
    expect(queueQueryString(parsed.filter)).toBe('q=a+b&priority=HIGH')
    expect(queueQueryString(parsed.filter, { page: true })).toBe('q=a+b&priority=HIGH&page=3')
  })
})

describe('saved views', () => {
  it('saves, replaces by name, renames, lists and deletes, only for their owner', async () => {
    const first = await saveView(agent.id, { name: '  Urgent hosting ', query: '?view=mine&priority=URGENT&page=3&sort=due' })
    expect(first).toMatchObject({ replaced: false, view: { name: 'Urgent hosting', query: 'view=mine&priority=URGENT' } })
    const again = await saveView(agent.id, { name: 'Urgent hosting', query: 'view=overdue' })
    expect(again).toMatchObject({ replaced: true, view: { id: first.view.id, query: 'view=overdue' } })
    await saveView(agent.id, { name: 'All', query: '' })
    expect(await savedViews(agent.id)).toEqual([
      { id: expect.any(String), name: 'All', query: '' },
      { id: first.view.id, name: 'Urgent hosting', query: 'view=overdue' },
    ])
    expect(await savedViews(colleague.id)).toEqual([])

    await expect(updateSavedView(agent.id, first.view.id, { name: 'All', query: '' })).rejects.toMatchObject({ key: 'queue.saved.error.nameTaken' })
    expect(await updateSavedView(agent.id, first.view.id, { name: 'Late', query: 'view=overdue&org=x-y' })).toMatchObject({ name: 'Late', query: 'view=overdue&org=x-y' })
    await expect(updateSavedView(colleague.id, first.view.id, { name: 'Mine now', query: '' })).rejects.toMatchObject({ key: 'queue.saved.error.notFound' })

    await expect(deleteSavedView(colleague.id, first.view.id)).rejects.toBeInstanceOf(QueueError)
    await deleteSavedView(agent.id, first.view.id)
    expect((await savedViews(agent.id)).map((v) => v.name)).toEqual(['All'])
  })

  it('refuses a query the queue would refuse, and an empty name', async () => {
    await expect(saveView(agent.id, { name: 'Broken', query: 'status=NOPE' })).rejects.toThrow('queue.error.choice|param=status|value=NOPE')
    await expect(saveView(agent.id, { name: ' ', query: '' })).rejects.toThrow('form.required')
    expect((await savedViews(agent.id)).map((v) => v.name)).not.toContain('Broken')
  })
})

describe('bulk changes', () => {
  it('applies a change to each ticket and reports the refusals by ticket', async () => {
    const ids = ['newA', 'closedB', 'resolvedB'].map((l) => tickets[l]!.id)
    const result = await bulkUpdate(actor, [...ids, 'no-such-ticket'], { change: 'status', status: 'RESOLVED' })
    expect(result.changed).toEqual([{ id: tickets.newA!.id, number: tickets.newA!.number }])
    expect(result.unchanged).toEqual([{ id: tickets.resolvedB!.id, number: tickets.resolvedB!.number }])
    expect(result.refused).toEqual([
      { id: 'no-such-ticket', number: null, key: 'ticket.error.notFound', vars: {} },
      { id: tickets.closedB!.id, number: tickets.closedB!.number, key: 'ticket.error.closed', vars: { number: String(tickets.closedB!.number) } },
    ])
    const after = await db().ticket.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } })
    expect(Object.fromEntries(after.map((t) => [t.id, t.status]))).toEqual({ [ids[0]!]: 'RESOLVED', [ids[1]!]: 'CLOSED', [ids[2]!]: 'RESOLVED' })
    // The change went through the ticket service: it has its history line.
    const lines = await db().ticketEvent.findMany({ where: { ticketId: ids[0], type: 'status' }, select: { actorId: true, data: true } })
    expect(lines).toContainEqual({ actorId: agent.id, data: { from: 'NEW', to: 'RESOLVED' } })
  })

  it('assigns, adds and removes tags, and refuses an assignee who is no agent', async () => {
    const ids = ['lateReply', 'urgentB'].map((l) => tickets[l]!.id)
    expect((await bulkUpdate(actor, ids, { change: 'assign-me' })).changed).toHaveLength(2)
    expect(await own({ view: 'mine' })).toEqual(['lateSolution', 'lateReply', 'urgentB', 'openMine'])
    const refused = await bulkUpdate(actor, ids, { change: 'assign', assigneeId: member.id })
    expect(refused.refused.map((r) => r.key)).toEqual(['ticket.error.assignee', 'ticket.error.assignee'])
    expect((await bulkUpdate(actor, ids, { change: 'unassign' })).changed).toHaveLength(2)

    await bulkUpdate(actor, ids, { change: 'add-tag', tag: `vip-${unique}` })
    expect((await labels({ tag: `vip-${unique}` })).sort()).toEqual(['lateReply', 'urgentB'])
    const removed = await bulkUpdate(actor, [ids[0]!], { change: 'remove-tag', tag: `vip-${unique}` })
    expect(removed.changed).toHaveLength(1)
    expect(await labels({ tag: `vip-${unique}` })).toEqual(['urgentB'])
    expect((await db().ticket.findUnique({ where: { id: ids[0] } }))?.tags).toEqual([runTag])

    const moved = await bulkUpdate(actor, ids, { change: 'group', groupId: 'no-such-group' })
    expect(moved.refused.map((r) => r.key)).toEqual(['ticket.error.group', 'ticket.error.group'])
  })

  it('reads the bulk form: one ticket is a list too, and waiting needs a date in the future', () => {
    const form = (entries: [string, string][]) => {
      const formData = new FormData()
      for (const [k, v] of entries) formData.append(k, v)
      const submission = parseWithZod(formData, { schema: bulkFormSchema })
      return submission.status === 'success' ? { value: submission.value } : { error: submission.error }
    }
    const one = form([['ticketId', 'a1'], ['change', 'priority'], ['priority', 'HIGH'], ['status', ''], ['tag', '']])
    expect(one).toEqual({ value: { ticketIds: ['a1'], change: { change: 'priority', priority: 'HIGH' } } })

    const pendingWithout = form([['ticketId', 'a1'], ['ticketId', 'a2'], ['change', 'status'], ['status', 'PENDING']])
    expect(pendingWithout.value).toBeUndefined()
    expect(pendingWithout.error).toMatchObject({ pendingUntil: ['queue.bulk.error.pendingDate'] })
    expect(form([['ticketId', 'a1'], ['change', 'status'], ['status', 'PENDING'], ['pendingUntil', '2001-01-01T09:00']]).error).toMatchObject({
      pendingUntil: ['queue.bulk.error.pendingPast'],
    })
    const future = form([['ticketId', 'a1'], ['change', 'status'], ['status', 'PENDING'], ['pendingUntil', `${now.getUTCFullYear() + 1}-03-02T10:30`]])
    expect(future.value?.change).toEqual({
      change: 'status',
      status: 'PENDING',
      // 10:30 in Amsterdam in March is 09:30 UTC.
      pendingUntil: new Date(`${now.getUTCFullYear() + 1}-03-02T09:30:00.000Z`),
    })

    expect(form([['change', 'assign-me']]).error).toMatchObject({ ticketId: ['queue.bulk.error.none'] })
    expect(form([['ticketId', 'a1'], ['change', 'assign']]).error).toMatchObject({ assigneeId: ['queue.bulk.error.assignee'] })
    expect(form([['ticketId', 'a1'], ['change', 'add-tag'], ['tag', '!!']]).error).toMatchObject({ tag: ['queue.bulk.error.tag'] })
    expect(form([['ticketId', 'a1'], ['change', 'group'], ['groupId', 'none']]).value).toEqual({ ticketIds: ['a1'], change: { change: 'group', groupId: null } })
  })
})
