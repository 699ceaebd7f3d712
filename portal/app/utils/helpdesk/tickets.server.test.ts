import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCatalog } from '../catalog.server'
import { db, disconnectDb } from '../db.server'
import { env } from '../env.server'
import { addMessage, createTicket, findSatisfaction, rateTicket, SYSTEM, TicketError, updateTicket, type Actor } from './tickets.server'
import { openFailureTicket } from './failure-ticket.server'

// Real Postgres from the test harness; mails are only put in the outbox here
// (mail-roundtrip.server.test.ts sends them over real SMTP).

const unique = Date.now().toString(36)
let n = 0
const made = { users: [] as string[], orgs: [] as string[] }

async function person(role: string, realmRoles: string[] = []) {
  const tag = `${role}-${unique}-${++n}`
  const user = await db().user.create({ data: { keycloakId: `test-${tag}`, email: `${tag}@tickets.test`, name: `Bo ${tag}`, locale: 'en', realmRoles } })
  made.users.push(user.id)
  const actor: Actor = { userId: user.id, name: user.name, email: user.email, agent: realmRoles.length > 0 }
  return { user, actor }
}

async function organisation(...members: { user: { id: string } }[]) {
  const slug = `tickets-${unique}-${++n}`
  const org = await db().organization.create({ data: { slug, name: `Coop ${slug}`, description: 'Test', sector: 'care', city: 'Delft' } })
  made.orgs.push(org.id)
  await db().membership.createMany({ data: members.map((m) => ({ userId: m.user.id, organizationId: org.id, role: 'ADMIN' as const })) })
  return org
}

function newTicket(org: { id: string }, who: Awaited<ReturnType<typeof person>>, extra: Partial<Parameters<typeof createTicket>[1]> = {}) {
  return createTicket(who.actor, {
    organizationId: org.id,
    subject: 'Files do not open',
    body: 'Clicking a file shows a blank page.',
    category: 'TOOL_PROBLEM',
    priority: 'NORMAL',
    requester: { userId: who.user.id, email: who.user.email, name: who.user.name, language: 'en' },
    ...extra,
  })
}

const mailsTo = (email: string) => db().outboxMail.findMany({ where: { to: email }, orderBy: { createdAt: 'asc' } })

beforeAll(async () => {
  await initCatalog(path.resolve(import.meta.dirname, '../../../../catalog/recipes'))
})

afterAll(async () => {
  await db().instance.updateMany({ where: { organizationId: { in: made.orgs } }, data: { failureTicketId: null } })
  await db().ticket.deleteMany({ where: { organizationId: { in: made.orgs } } })
  await db().instance.deleteMany({ where: { organizationId: { in: made.orgs } } })
  await db().outboxMail.deleteMany({ where: { to: { endsWith: '@tickets.test' } } })
  await db().organization.deleteMany({ where: { id: { in: made.orgs } } })
  await db().user.deleteMany({ where: { id: { in: made.users } } })
  await disconnectDb()
})

describe('tickets', () => {
  it('opens a ticket with SLA due dates on business hours, a history line, the requester as watcher and a confirmation mail', async () => {
    const member = await person('member')
    const org = await organisation(member)
    const ticket = await newTicket(org, member, { priority: 'URGENT' })
    expect(ticket.status).toBe('NEW')
    expect(ticket.number).toBeGreaterThan(0)
    expect(ticket.firstResponseDueAt!.getTime()).toBeGreaterThan(ticket.createdAt.getTime())
    expect(ticket.resolutionDueAt!.getTime()).toBeGreaterThan(ticket.firstResponseDueAt!.getTime())
    expect(ticket.groupId).toBe('first-line')
    expect(ticket.searchText).toContain('blank page')
    const events = await db().ticketEvent.findMany({ where: { ticketId: ticket.id } })
    expect(events.map((e) => e.type)).toEqual(['created'])
    expect(await db().ticketWatcher.count({ where: { ticketId: ticket.id, userId: member.user.id } })).toBe(1)
    const [mail] = await mailsTo(member.user.email)
    expect(mail?.subject).toBe(`[#${ticket.number}] Files do not open`)
    expect(mail?.messageId).toMatch(new RegExp(`^<ticket-${ticket.number}\\.`))
    const support = env().HELPDESK_ADDRESS
    expect((mail?.headers as Record<string, string> | undefined)?.References?.split(' ')[0]).toBe(`<ticket-${ticket.number}@${support.split('@')[1]}>`)
    expect(mail?.replyTo).toBe(support)
  })

  it('refuses a ticket for an organisation the person is not in, and a tool of another organisation, changing nothing', async () => {
    const a = await person('a')
    const b = await person('b')
    const orgA = await organisation(a)
    const orgB = await organisation(b)
    const instance = await db().instance.create({ data: { id: `hello-${unique}-${++n}`, organizationId: orgB.id, recipeId: 'hello', adminEmail: b.user.email } })
    const before = await db().ticket.count()
    await expect(newTicket(orgB, a)).rejects.toMatchObject({ key: 'ticket.error.notMember' })
    await expect(newTicket(orgA, a, { instanceId: instance.id })).rejects.toMatchObject({ key: 'ticket.error.instance' })
    expect(await db().ticket.count()).toBe(before)
  })

  it('moves through its states with replies: an agent’s answer opens it, the requester’s reopens a resolved one, a closed one takes no reply', async () => {
    const member = await person('member')
    const agent = await person('agent', ['helpdesk-agent'])
    const org = await organisation(member)
    const ticket = await newTicket(org, member)
    await addMessage(agent.actor, ticket.id, { body: 'We are looking into it.' })
    let now = await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })
    expect(now.status).toBe('OPEN')
    expect(now.firstResponseAt).not.toBeNull()

    await updateTicket(agent.actor, ticket.id, { status: 'RESOLVED' })
    now = await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })
    expect(now.resolvedAt).not.toBeNull()
    await addMessage(member.actor, ticket.id, { body: 'It happens again.' })
    now = await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })
    expect(now.status).toBe('OPEN')
    expect(now.resolvedAt).toBeNull()

    await updateTicket(member.actor, ticket.id, { status: 'CLOSED' })
    const messages = await db().ticketMessage.count({ where: { ticketId: ticket.id } })
    await expect(addMessage(member.actor, ticket.id, { body: 'Hello?' })).rejects.toMatchObject({ key: 'ticket.error.closed' })
    expect(await db().ticketMessage.count({ where: { ticketId: ticket.id } })).toBe(messages)
    await updateTicket(member.actor, ticket.id, { status: 'OPEN' })
    expect((await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })).status).toBe('OPEN')
    const statuses = (await db().ticketEvent.findMany({ where: { ticketId: ticket.id, type: 'status' }, orderBy: { createdAt: 'asc' } })).map((e) => e.data)
    expect(statuses).toEqual([
      { from: 'NEW', to: 'OPEN' },
      { from: 'OPEN', to: 'RESOLVED' },
      { from: 'RESOLVED', to: 'OPEN' },
      { from: 'OPEN', to: 'CLOSED' },
      { from: 'CLOSED', to: 'OPEN' },
    ])
  })

  it('never mails an internal note, and only agents may write one', async () => {
    const member = await person('member')
    const agent = await person('agent', ['helpdesk-agent'])
    const org = await organisation(member)
    const ticket = await newTicket(org, member)
    const before = (await mailsTo(member.user.email)).length
    await addMessage(agent.actor, ticket.id, { body: 'Internal: their quota is full.', internal: true })
    await expect(addMessage(member.actor, ticket.id, { body: 'sneaky', internal: true })).rejects.toMatchObject({ key: 'ticket.error.notAgent' })
    const after = await mailsTo(member.user.email)
    expect(after).toHaveLength(before)
    expect(after.some((m) => m.text.includes('quota is full'))).toBe(false)
    const note = await db().ticketMessage.findFirstOrThrow({ where: { ticketId: ticket.id, kind: 'INTERNAL' } })
    expect(note.messageId).toBeNull()
    // A note is no answer: the first-response clock keeps running.
    expect((await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })).firstResponseAt).toBeNull()
  })

  it('lets only agents change fields; assigns only to agents; a member may close, resolve and reopen', async () => {
    const member = await person('member')
    const agent = await person('agent', ['helpdesk-agent'])
    const org = await organisation(member)
    const ticket = await newTicket(org, member)
    await expect(updateTicket(member.actor, ticket.id, { priority: 'URGENT' })).rejects.toBeInstanceOf(TicketError)
    await expect(updateTicket(agent.actor, ticket.id, { assigneeId: member.user.id })).rejects.toMatchObject({ key: 'ticket.error.assignee' })
    const other = await person('agent2', ['helpdesk-agent'])
    await updateTicket(agent.actor, ticket.id, { assigneeId: other.user.id, tags: ['Nextcloud', ' sync ', 'nextcloud', '<b>'], priority: 'HIGH' })
    const now = await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })
    expect(now.assigneeId).toBe(other.user.id)
    expect(now.tags).toEqual(['nextcloud', 'sync'])
    expect(now.resolutionDueAt!.getTime()).toBeLessThan(ticket.resolutionDueAt!.getTime())
    const assigned = await mailsTo(other.user.email)
    expect(assigned.map((m) => m.subject)).toEqual([`[#${ticket.number}] assigned to you: Files do not open`])
    await expect(updateTicket(agent.actor, ticket.id, { status: 'PENDING', pendingUntil: new Date(Date.now() - 60_000) })).rejects.toMatchObject({ key: 'ticket.error.pendingInPast' })
  })

  it('stops the resolution clock while pending and moves its due date on by the time spent waiting', async () => {
    const member = await person('member')
    const agent = await person('agent', ['helpdesk-agent'])
    const org = await organisation(member)
    const ticket = await newTicket(org, member)
    await updateTicket(agent.actor, ticket.id, { status: 'PENDING', pendingUntil: new Date(Date.now() + 3 * 24 * 3600_000) })
    const paused = await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })
    expect(paused.slaPausedAt).not.toBeNull()
    // Pretend the wait began a week ago: at least five business days went by.
    await db().ticket.update({ where: { id: ticket.id }, data: { slaPausedAt: new Date(Date.now() - 7 * 24 * 3600_000) } })
    await updateTicket(agent.actor, ticket.id, { status: 'OPEN' })
    const resumed = await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })
    expect(resumed.slaPausedAt).toBeNull()
    expect(resumed.pendingUntil).toBeNull()
    expect(resumed.resolutionDueAt!.getTime() - ticket.resolutionDueAt!.getTime()).toBeGreaterThanOrEqual(4 * 24 * 3600_000)
  })

  it('mails a one-use satisfaction link when resolved', async () => {
    const member = await person('member')
    const agent = await person('agent', ['helpdesk-agent'])
    const org = await organisation(member)
    const ticket = await newTicket(org, member)
    await updateTicket(agent.actor, ticket.id, { status: 'RESOLVED' })
    const mail = (await mailsTo(member.user.email)).find((m) => m.text.includes('/satisfaction/'))
    const token = mail?.text.match(/\/satisfaction\/([A-Za-z0-9_-]+)/)?.[1]
    expect(token).toBeTruthy()
    expect((await findSatisfaction(token!)).state).toBe('open')
    expect(await rateTicket(token!, 4, 'Quick and kind.')).toBe('rated')
    expect(await rateTicket(token!, 1, 'again')).toBe('used')
    expect(await rateTicket('x'.repeat(32), 5, '')).toBe('invalid')
    const rated = await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })
    expect([rated.satisfactionRating, rated.satisfactionComment]).toEqual([4, 'Quick and kind.'])
  })

  it('opens one ticket for a provisioning failure, on the hosting queue, and notes a second failure on it', async () => {
    const admin = await person('admin')
    const org = await organisation(admin)
    const instance = await db().instance.create({ data: { id: `trio-${unique}-${++n}`, organizationId: org.id, recipeId: 'trio', adminEmail: admin.user.email } })
    const failure = { step: 'health:web', message: 'health check GET :8080/ kept failing' }
    const first = await db().$transaction((tx) => openFailureTicket(tx, instance, failure))
    expect(first).toMatchObject({ channel: 'SYSTEM', priority: 'HIGH', groupId: 'hosting', instanceId: instance.id, requesterId: admin.user.id })
    // No "we received your request": the failure mail names the ticket instead.
    expect(await mailsTo(admin.user.email)).toEqual([])
    const body = (await db().ticketMessage.findFirstOrThrow({ where: { ticketId: first.id } })).body
    expect(body).toContain('health:web')
    expect(body).toContain('kept failing')
    const again = await db().$transaction(async (tx) => openFailureTicket(tx, await tx.instance.findUniqueOrThrow({ where: { id: instance.id } }), failure))
    expect(again.id).toBe(first.id)
    expect(await db().ticket.count({ where: { instanceId: instance.id } })).toBe(1)
    expect(await db().ticketMessage.count({ where: { ticketId: first.id, kind: 'INTERNAL' } })).toBe(1)
    expect(SYSTEM.userId).toBeNull()
  })
})
