import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Prisma } from '~/generated/prisma/client'
import { db, disconnectDb } from '../db.server'
import { outbox } from '../email.server'
import { env } from '../env.server'
import { addBusinessMinutes } from './business-calendar'
import { HelpdeskScheduler } from './scheduler.server'
import { businessCalendar } from './settings.server'
import { createTicket, type Actor } from './tickets.server'

// Real Postgres from the test harness, shared with other test files: every
// pass here is narrowed to this file's organisations (the scheduler's scope).

const unique = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const prefix = `sched-${unique}-`
const scope: Prisma.TicketWhereInput = { organization: { slug: { startsWith: prefix } } }
const HOUR = 3_600_000
const DAY = 24 * HOUR
let n = 0
const purgedNumbers: number[] = []
let org: { id: string }
let member: Actor
let agentA: { id: string; email: string }
let agentB: { id: string; email: string }

async function person(role: string, realmRoles: string[] = []) {
  const tag = `${role}-${unique}-${++n}`
  return db().user.create({ data: { keycloakId: `test-${tag}`, email: `${tag}@scheduler.test`, name: `Test ${tag}`, locale: 'en', realmRoles } })
}

async function ticket(subject: string, data: Prisma.TicketUpdateInput = {}) {
  const created = await createTicket(member, {
    organizationId: org.id,
    subject,
    body: 'Something is wrong.',
    category: 'QUESTION',
    priority: 'NORMAL',
    requester: { userId: member.userId, email: member.email ?? '', name: member.name, language: 'en' },
  })
  // No SLA notice unless a test asks for one: the first response is given, the resolution far away.
  return db().ticket.update({
    where: { id: created.id },
    data: { firstResponseAt: new Date(), resolutionDueAt: new Date(Date.now() + 365 * DAY), ...data },
  })
}

const mailsTo = (email: string, number: number) => db().outboxMail.count({ where: { to: email, subject: { contains: `[#${number}]` } } })
const eventsOf = (ticketId: string, type: string) => db().ticketEvent.findMany({ where: { ticketId, type } })

beforeAll(async () => {
  const requester = await person('member')
  agentA = await person('agent-a', ['helpdesk-agent'])
  agentB = await person('agent-b', ['platform-operator'])
  org = await db().organization.create({ data: { slug: `${prefix}${++n}`, name: `Coop ${prefix}${n}`, description: 'Test', sector: 'energy', city: 'Utrecht' } })
  await db().membership.create({ data: { userId: requester.id, organizationId: org.id, role: 'MEMBER' } })
  member = { userId: requester.id, name: requester.name, email: requester.email, agent: false }
})

afterAll(async () => {
  await db().ticket.deleteMany({ where: scope })
  await db().organization.deleteMany({ where: { slug: { startsWith: prefix } } })
  await db().outboxMail.deleteMany({ where: { to: { contains: unique } } })
  await db().auditEntry.deleteMany({ where: { action: 'helpdesk.purge', OR: purgedNumbers.map((number) => ({ data: { path: ['numbers'], array_contains: [number] } })) } })
  await db().user.deleteMany({ where: { email: { endsWith: '@scheduler.test', contains: unique } } })
  await outbox.stop()
  await disconnectDb()
})

describe('pending tickets', () => {
  it('reopens a ticket whose pending date passed, with a history line and one mail to the assignee', async () => {
    const paused = new Date(Date.now() - 3 * HOUR)
    const t = await ticket('Waiting for the supplier', { status: 'PENDING', pendingUntil: new Date(Date.now() - 60_000), slaPausedAt: paused, assignee: { connect: { id: agentA.id } } })
    const later = await ticket('Still waiting', { status: 'PENDING', pendingUntil: new Date(Date.now() + DAY), slaPausedAt: paused })
    const scheduler = new HelpdeskScheduler(scope)

    const counts = await scheduler.pass()
    expect(counts.reopened).toBe(1)
    const after = await db().ticket.findUniqueOrThrow({ where: { id: t.id } })
    expect(after.status).toBe('OPEN')
    expect(after.pendingUntil).toBeNull()
    expect(after.slaPausedAt).toBeNull()
    // The resolution clock resumed: its due date moved on by the pause (never earlier).
    expect(after.resolutionDueAt!.getTime()).toBeGreaterThanOrEqual(t.resolutionDueAt!.getTime())
    const lines = await eventsOf(t.id, 'status')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ actorId: null, data: { from: 'PENDING', to: 'OPEN' } })
    expect(await mailsTo(agentA.email, t.number)).toBe(1)
    expect((await db().ticket.findUniqueOrThrow({ where: { id: later.id } })).status).toBe('PENDING')

    // Two more passes at once (two portal processes): nothing more happens.
    const again = await Promise.all([scheduler.pass(), new HelpdeskScheduler(scope).pass()])
    expect(again.map((c) => c.reopened)).toEqual([0, 0])
    expect(await mailsTo(agentA.email, t.number)).toBe(1)
    expect(await eventsOf(t.id, 'status')).toHaveLength(1)
  })

  it('reopens a pending ticket only once when two processes see it at the same moment', async () => {
    const t = await ticket('Raced', { status: 'PENDING', pendingUntil: new Date(Date.now() - 60_000), slaPausedAt: new Date(), assignee: { connect: { id: agentA.id } } })
    const both = await Promise.all([new HelpdeskScheduler(scope).pass(), new HelpdeskScheduler(scope).pass()])
    expect(both[0]!.reopened + both[1]!.reopened).toBe(1)
    expect(await mailsTo(agentA.email, t.number)).toBe(1)
    expect(await eventsOf(t.id, 'status')).toHaveLength(1)
  })
})

describe('resolved tickets', () => {
  it('closes a ticket resolved longer ago than HELPDESK_AUTO_CLOSE_DAYS, and leaves a recent one', async () => {
    const days = env().HELPDESK_AUTO_CLOSE_DAYS
    const old = await ticket('Solved long ago', { status: 'RESOLVED', resolvedAt: new Date(Date.now() - (days + 1) * DAY) })
    const recent = await ticket('Solved yesterday', { status: 'RESOLVED', resolvedAt: new Date(Date.now() - DAY) })

    const counts = await new HelpdeskScheduler(scope).pass()
    expect(counts.closed).toBe(1)
    const closed = await db().ticket.findUniqueOrThrow({ where: { id: old.id } })
    expect(closed.status).toBe('CLOSED')
    expect(closed.closedAt).not.toBeNull()
    const lines = await eventsOf(old.id, 'status')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ actorId: null, data: { from: 'RESOLVED', to: 'CLOSED' } })
    expect((await db().ticket.findUniqueOrThrow({ where: { id: recent.id } })).status).toBe('RESOLVED')
    expect(await eventsOf(recent.id, 'status')).toHaveLength(0)
  })
})

describe('SLA notices', () => {
  it('sends each warning and breach once, however many passes run, with history lines', async () => {
    const soon = addBusinessMinutes(businessCalendar(), new Date(), Math.max(1, Math.floor(env().HELPDESK_SLA_WARN_MINUTES / 2)))
    const t = await ticket('Almost late and late', {
      firstResponseAt: null,
      firstResponseDueAt: soon,
      resolutionDueAt: new Date(Date.now() - HOUR),
      assignee: { connect: { id: agentA.id } },
    })

    // Two processes at once, then a later pass: one warning and one breach in all.
    const racing = await Promise.all([new HelpdeskScheduler(scope).pass(), new HelpdeskScheduler(scope).pass()])
    expect(racing.reduce((sum, c) => sum + c.warnings, 0)).toBe(1)
    expect(racing.reduce((sum, c) => sum + c.breaches, 0)).toBe(1)
    expect(await new HelpdeskScheduler(scope).pass()).toMatchObject({ warnings: 0, breaches: 0 })

    const after = await db().ticket.findUniqueOrThrow({ where: { id: t.id } })
    expect(after.firstResponseWarnedAt).not.toBeNull()
    expect(after.firstResponseBreachedAt).toBeNull()
    expect(after.resolutionBreachedAt).not.toBeNull()
    const warnings = await eventsOf(t.id, 'sla.warning')
    const breaches = await eventsOf(t.id, 'sla.breach')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.data).toMatchObject({ target: 'firstResponse', dueAt: soon.toISOString() })
    expect(breaches).toHaveLength(1)
    expect(breaches[0]).toMatchObject({ actorId: null, data: { target: 'resolution' } })
    // One warning, one breach, both to the assignee only.
    expect(await mailsTo(agentA.email, t.number)).toBe(2)
    expect(await mailsTo(agentB.email, t.number)).toBe(0)
    const texts = await db().outboxMail.findMany({ where: { to: agentA.email, subject: { contains: `[#${t.number}]` } }, orderBy: { createdAt: 'asc' } })
    expect(texts.some((m) => m.text.includes('first response'))).toBe(true)
    expect(texts.some((m) => m.text.includes('resolution'))).toBe(true)
  })

  it('mails every helpdesk agent about an unassigned ticket', async () => {
    const t = await ticket('Nobody has it', { resolutionDueAt: new Date(Date.now() - HOUR) })
    const counts = await new HelpdeskScheduler(scope).pass()
    expect(counts.breaches).toBe(1)
    expect(await mailsTo(agentA.email, t.number)).toBe(1)
    expect(await mailsTo(agentB.email, t.number)).toBe(1)
    // The requester hears nothing of it.
    expect(await db().outboxMail.count({ where: { to: member.email!, subject: { contains: `[#${t.number}]` }, text: { contains: 'missed' } } })).toBe(0)
  })

  it('sends no resolution notice while a ticket is pending, and no first-response notice once answered', async () => {
    const pending = await ticket('On hold', {
      status: 'PENDING',
      pendingUntil: new Date(Date.now() + DAY),
      slaPausedAt: new Date(),
      resolutionDueAt: new Date(Date.now() - HOUR),
      assignee: { connect: { id: agentA.id } },
    })
    const answered = await ticket('Answered late', {
      firstResponseAt: new Date(),
      firstResponseDueAt: new Date(Date.now() - 2 * HOUR),
      assignee: { connect: { id: agentA.id } },
    })
    await new HelpdeskScheduler(scope).pass()
    for (const t of [pending, answered]) {
      const after = await db().ticket.findUniqueOrThrow({ where: { id: t.id } })
      expect(after).toMatchObject({ firstResponseWarnedAt: null, firstResponseBreachedAt: null, resolutionWarnedAt: null, resolutionBreachedAt: null })
      expect(await eventsOf(t.id, 'sla.breach')).toHaveLength(0)
      expect(await eventsOf(t.id, 'sla.warning')).toHaveLength(0)
      expect(await mailsTo(agentA.email, t.number)).toBe(0)
    }
  })
})

describe('retention', () => {
  it('purges closed tickets older than HELPDESK_RETENTION_DAYS in a pass', async () => {
    const old = await ticket('Closed long ago', { status: 'CLOSED', closedAt: new Date(Date.now() - (env().HELPDESK_RETENTION_DAYS + 1) * DAY) })
    const recent = await ticket('Closed last week', { status: 'CLOSED', closedAt: new Date(Date.now() - 7 * DAY) })
    purgedNumbers.push(old.number)
    const counts = await new HelpdeskScheduler(scope).pass()
    expect(counts.purged).toBe(1)
    expect(await db().ticket.findUnique({ where: { id: old.id } })).toBeNull()
    expect(await db().ticket.findUnique({ where: { id: recent.id } })).not.toBeNull()
    const audit = await db().auditEntry.findMany({ where: { action: 'helpdesk.purge', data: { path: ['numbers'], array_contains: [old.number] } } })
    expect(audit.map((a) => a.data)).toEqual([expect.objectContaining({ tickets: 1, numbers: [old.number] })])
  })
})
