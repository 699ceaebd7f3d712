import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Prisma, Ticket, TicketCategory, TicketChannel, TicketPriority, TicketStatus } from '~/generated/prisma/client'
import { db } from '../db.server'
import { isLanguage, type Language } from '../i18n'
import { markdownToText } from '../markdown.server'
import { ticketMessageId } from './inbound-mail'
import { businessCalendar, mailDomain, slaTargets } from './settings.server'
import { mailAgentNotice, mailSatisfactionRequest, mailTicketCreated, mailTicketMessage } from './ticket-mail.server'
import { shiftForPause, slaDueDates, transition, type TicketEvent as StateEvent } from './ticket-state'

type Tx = Prisma.TransactionClient

export { CATEGORIES, PRIORITIES, STATUSES } from './ticket-forms'

/** The search index keeps this much of a ticket's text; the rest stays readable, just not searchable. */
const SEARCH_TEXT_MAX = 100_000

export type TicketErrorKey =
  | 'ticket.error.notFound'
  | 'ticket.error.notMember'
  | 'ticket.error.closed'
  | 'ticket.error.pendingInPast'
  | 'ticket.error.invalidTransition'
  | 'ticket.error.instance'
  | 'ticket.error.assignee'
  | 'ticket.error.group'
  | 'ticket.error.notAgent'

/** A refusal the person can do something about; `key` is the message shown to them. */
export class TicketError extends Error {
  constructor(
    readonly key: TicketErrorKey,
    readonly status = 409,
    readonly vars: Record<string, string> = {},
  ) {
    super(key)
    this.name = 'TicketError'
  }
}

/**
 * Who acts on a ticket. `agent` means the person answers for the helpdesk
 * (helpdesk agent or platform operator); `userId` is null for the system
 * (scheduler, provisioning failures) and for mail from a guest.
 */
export interface Actor {
  userId: string | null
  name: string
  email: string | null
  agent: boolean
}

export const SYSTEM: Actor = { userId: null, name: 'Commons Portal', email: null, agent: true }

export function actorOf(session: { userId: string; realmRoles: string[]; user: { name: string; email: string } }): Actor {
  const agent = session.realmRoles.includes('helpdesk-agent') || session.realmRoles.includes('platform-operator')
  return { userId: session.userId, name: session.user.name, email: session.user.email, agent }
}

/** A file already written by the attachment store, to be linked to the new message. */
export interface StoredAttachment {
  storageKey: string
  fileName: string
  contentType: string
  size: number
  sha256: string
}

export interface NewTicket {
  organizationId: string | null
  subject: string
  body: string
  category: TicketCategory
  priority: TicketPriority
  instanceId?: string | null
  requester: { userId: string | null; email: string; name: string; language: Language }
  channel?: TicketChannel
  groupId?: string | null
  tags?: string[]
  /** The Message-ID of the mail that opened it. */
  messageId?: string
  attachments?: StoredAttachment[]
  /** Extra history lines (for example: opened from a mail to a closed ticket). */
  note?: Prisma.InputJsonValue
  /** No confirmation to the requester (the caller tells them itself). */
  quiet?: boolean
}

async function requireMember(tx: Tx, actor: Actor, organizationId: string) {
  if (actor.agent || !actor.userId) return
  const membership = await tx.membership.findUnique({ where: { userId_organizationId: { userId: actor.userId, organizationId } } })
  if (!membership) throw new TicketError('ticket.error.notMember', 404)
}

async function checkInstance(tx: Tx, organizationId: string | null, instanceId: string | null | undefined) {
  if (!instanceId) return null
  const instance = organizationId ? await tx.instance.findFirst({ where: { id: instanceId, organizationId } }) : null
  if (!instance) throw new TicketError('ticket.error.instance', 400)
  return instance.id
}

function searchTextOf(parts: string[]) {
  return parts.join('\n').slice(0, SEARCH_TEXT_MAX)
}

async function record(tx: Tx, ticketId: string, actor: Actor, type: string, data?: Prisma.InputJsonValue) {
  await tx.ticketEvent.create({ data: { ticketId, actorId: actor.userId, type, data: data ?? undefined } })
}

/**
 * Opens a ticket: the ticket, its first message and attachments, its
 * history line, its SLA due dates and the confirmation mail, all in one
 * transaction, so either all of it exists or none.
 */
export async function createTicket(actor: Actor, input: NewTicket, outer?: Tx): Promise<Ticket> {
  const targets = await slaTargets()
  const calendar = businessCalendar()
  const run = async (tx: Tx) => {
    if (input.organizationId) await requireMember(tx, actor, input.organizationId)
    const instanceId = await checkInstance(tx, input.organizationId, input.instanceId)
    const now = new Date()
    const due = slaDueDates(calendar, now, input.priority, targets)
    const ticket = await tx.ticket.create({
      data: {
        organizationId: input.organizationId,
        requesterId: input.requester.userId,
        requesterEmail: input.requester.email,
        requesterName: input.requester.name,
        language: input.requester.language,
        subject: input.subject,
        category: input.category,
        priority: input.priority,
        channel: input.channel ?? 'WEB',
        instanceId,
        groupId: input.groupId ?? 'first-line',
        tags: input.tags ?? [],
        firstResponseDueAt: due.firstResponseDueAt,
        resolutionDueAt: due.resolutionDueAt,
        searchText: searchTextOf([input.subject, markdownToText(input.body)]),
        lastActivityAt: now,
      },
    })
    const message = await tx.ticketMessage.create({
      data: {
        ticketId: ticket.id,
        kind: 'PUBLIC',
        channel: input.channel ?? 'WEB',
        authorId: input.requester.userId,
        authorName: input.requester.name,
        authorEmail: input.requester.email,
        fromAgent: false,
        body: input.body,
        messageId: input.messageId ?? ticketMessageId(ticket.number, randomUUID(), mailDomain()),
      },
    })
    if (input.attachments?.length) {
      await tx.ticketAttachment.createMany({ data: input.attachments.map((a) => ({ ...a, ticketId: ticket.id, messageId: message.id })) })
    }
    if (input.requester.userId) {
      await tx.ticketWatcher.create({ data: { ticketId: ticket.id, userId: input.requester.userId } })
    }
    await record(tx, ticket.id, actor, 'created', {
      channel: input.channel ?? 'WEB',
      priority: input.priority,
      category: input.category,
      ...(input.note ? { note: input.note } : {}),
    })
    if (!input.quiet) await mailTicketCreated(tx, ticket, message)
    // "We cannot work" should not wait until someone looks at the queue.
    if (ticket.priority === 'URGENT') {
      for (const agent of await helpdeskAgents(tx)) await mailAgentNotice(tx, ticket, agent, 'urgent')
    }
    return ticket
  }
  return outer ? run(outer) : db().$transaction(run)
}

export interface NewMessage {
  body: string
  internal?: boolean
  channel?: TicketChannel
  messageId?: string
  attachments?: StoredAttachment[]
}

/** The ticket, locked for the rest of the transaction: two replies at once change it one after the other. */
async function lockTicket(tx: Tx, ticketId: string) {
  await tx.$queryRaw`SELECT id FROM "Ticket" WHERE id = ${ticketId} FOR UPDATE`
  const ticket = await tx.ticket.findUnique({ where: { id: ticketId } })
  if (!ticket) throw new TicketError('ticket.error.notFound', 404)
  return ticket
}

/** What a status change does to the SLA clocks: pending stops the resolution clock, leaving it restarts it later. */
function slaPauseChanges(ticket: Ticket, next: TicketStatus, now: Date): Prisma.TicketUpdateInput {
  if (next === 'PENDING' && ticket.status !== 'PENDING') return { slaPausedAt: now }
  if (next !== 'PENDING' && ticket.status === 'PENDING' && ticket.slaPausedAt && ticket.resolutionDueAt) {
    return { slaPausedAt: null, resolutionDueAt: shiftForPause(businessCalendar(), ticket.resolutionDueAt, ticket.slaPausedAt, now) }
  }
  return {}
}

function statusChanges(ticket: Ticket, next: TicketStatus, pendingUntil: Date | null, now: Date): Prisma.TicketUpdateInput {
  return {
    status: next,
    pendingUntil: next === 'PENDING' ? pendingUntil : null,
    ...(next === 'RESOLVED' && ticket.status !== 'RESOLVED' ? { resolvedAt: now } : {}),
    ...(next === 'CLOSED' && ticket.status !== 'CLOSED' ? { closedAt: now } : {}),
    ...(next === 'OPEN' || next === 'NEW' ? { resolvedAt: null, closedAt: null } : {}),
    ...slaPauseChanges(ticket, next, now),
  }
}

/**
 * A public reply or an internal note. A reply moves the ticket on (the
 * requester answering reopens a pending or resolved one); a closed ticket
 * takes no more replies: the person is told to reopen it or open a new one.
 */
export async function addMessage(actor: Actor, ticketId: string, input: NewMessage, outer?: Tx) {
  const run = async (tx: Tx) => {
    const ticket = await lockTicket(tx, ticketId)
    if (ticket.organizationId) await requireMember(tx, actor, ticket.organizationId)
    const internal = Boolean(input.internal)
    if (internal && !actor.agent) throw new TicketError('ticket.error.notAgent', 403)
    if (ticket.status === 'CLOSED') throw new TicketError('ticket.error.closed', 409, { number: String(ticket.number) })
    const now = new Date()
    const message = await tx.ticketMessage.create({
      data: {
        ticketId,
        kind: internal ? 'INTERNAL' : 'PUBLIC',
        channel: input.channel ?? 'WEB',
        authorId: actor.userId,
        authorName: actor.name,
        authorEmail: actor.email,
        fromAgent: actor.agent,
        body: input.body,
        messageId: input.messageId ?? (internal ? null : ticketMessageId(ticket.number, randomUUID(), mailDomain())),
      },
    })
    if (input.attachments?.length) {
      await tx.ticketAttachment.createMany({ data: input.attachments.map((a) => ({ ...a, ticketId, messageId: message.id })) })
    }
    let data: Prisma.TicketUpdateInput = {
      lastActivityAt: now,
      searchText: searchTextOf([ticket.searchText, markdownToText(input.body)]),
    }
    if (!internal) {
      const event: StateEvent = actor.agent ? { type: 'agent-reply' } : { type: 'requester-reply' }
      const moved = transition(ticket.status, event, now)
      if (moved.ok && moved.status !== ticket.status) {
        data = { ...data, ...statusChanges(ticket, moved.status, moved.pendingUntil, now) }
        await record(tx, ticketId, actor, 'status', { from: ticket.status, to: moved.status })
      }
      if (actor.agent && !ticket.firstResponseAt) data.firstResponseAt = now
    }
    await tx.ticket.update({ where: { id: ticketId }, data })
    await record(tx, ticketId, actor, internal ? 'note' : 'reply', { messageId: message.id })
    if (!internal) await mailTicketMessage(tx, { ...ticket, status: (data.status as TicketStatus | undefined) ?? ticket.status }, message, actor)
    return message
  }
  return outer ? run(outer) : db().$transaction(run)
}

export interface TicketChanges {
  status?: TicketStatus
  pendingUntil?: Date | null
  priority?: TicketPriority
  category?: TicketCategory
  assigneeId?: string | null
  groupId?: string | null
  tags?: string[]
  instanceId?: string | null
}

function stateEventFor(target: TicketStatus, current: TicketStatus, pendingUntil: Date | null | undefined): StateEvent {
  switch (target) {
    case 'PENDING':
      return { type: 'set-pending', until: pendingUntil ?? new Date(0) }
    case 'RESOLVED':
      return { type: 'resolve' }
    case 'CLOSED':
      return { type: 'close' }
    case 'OPEN':
      return current === 'RESOLVED' || current === 'CLOSED' ? { type: 'reopen' } : { type: 'open' }
    case 'NEW':
      return { type: 'open' }
  }
}

/**
 * Changes a ticket's fields, each change a line in its history. Agents may
 * change everything; the requester's organisation may only close, resolve
 * or reopen. Returns the ticket as it is afterwards.
 */
export async function updateTicket(actor: Actor, ticketId: string, changes: TicketChanges, outer?: Tx) {
  const run = async (tx: Tx) => {
    const ticket = await lockTicket(tx, ticketId)
    if (ticket.organizationId) await requireMember(tx, actor, ticket.organizationId)
    const onlyStatus = Object.keys(changes).every((k) => k === 'status')
    if (!actor.agent && (!onlyStatus || !['CLOSED', 'OPEN', 'RESOLVED'].includes(changes.status ?? ''))) {
      throw new TicketError('ticket.error.notAgent', 403)
    }
    const now = new Date()
    let data: Prisma.TicketUpdateInput = {}
    const lines: { type: string; data: Prisma.InputJsonValue }[] = []

    if (changes.status && (changes.status !== ticket.status || (changes.status === 'PENDING' && changes.pendingUntil))) {
      const moved = transition(ticket.status, stateEventFor(changes.status, ticket.status, changes.pendingUntil), now)
      if (!moved.ok) {
        if (moved.reason === 'pending-in-past') throw new TicketError('ticket.error.pendingInPast', 400)
        if (moved.reason === 'closed') throw new TicketError('ticket.error.closed', 409, { number: String(ticket.number) })
        throw new TicketError('ticket.error.invalidTransition', 409)
      }
      data = { ...data, ...statusChanges(ticket, moved.status, moved.pendingUntil, now) }
      lines.push({ type: 'status', data: { from: ticket.status, to: moved.status, ...(moved.pendingUntil ? { until: moved.pendingUntil.toISOString() } : {}) } })
    }
    if (changes.priority && changes.priority !== ticket.priority) {
      // A new priority means new targets, counted from when the ticket was opened.
      const due = slaDueDates(businessCalendar(), ticket.createdAt, changes.priority, await slaTargets())
      data.priority = changes.priority
      data.firstResponseDueAt = due.firstResponseDueAt
      data.resolutionDueAt = due.resolutionDueAt
      data.firstResponseWarnedAt = null
      data.firstResponseBreachedAt = null
      data.resolutionWarnedAt = null
      data.resolutionBreachedAt = null
      lines.push({ type: 'priority', data: { from: ticket.priority, to: changes.priority } })
    }
    if (changes.category && changes.category !== ticket.category) {
      data.category = changes.category
      lines.push({ type: 'category', data: { from: ticket.category, to: changes.category } })
    }
    if (changes.assigneeId !== undefined && changes.assigneeId !== ticket.assigneeId) {
      if (changes.assigneeId) {
        const assignee = await tx.user.findFirst({ where: { id: changes.assigneeId, realmRoles: { hasSome: AGENT_ROLES } } })
        if (!assignee) throw new TicketError('ticket.error.assignee', 400)
        data.assignee = { connect: { id: assignee.id } }
      } else {
        data.assignee = { disconnect: true }
      }
      lines.push({ type: 'assignee', data: { from: ticket.assigneeId, to: changes.assigneeId } })
    }
    if (changes.groupId !== undefined && changes.groupId !== ticket.groupId) {
      if (changes.groupId) {
        const group = await tx.helpdeskGroup.findUnique({ where: { id: changes.groupId } })
        if (!group) throw new TicketError('ticket.error.group', 400)
        data.group = { connect: { id: group.id } }
      } else {
        data.group = { disconnect: true }
      }
      lines.push({ type: 'group', data: { from: ticket.groupId, to: changes.groupId } })
    }
    if (changes.tags) {
      const tags = normaliseTags(changes.tags)
      const added = tags.filter((t) => !ticket.tags.includes(t))
      const removed = ticket.tags.filter((t) => !tags.includes(t))
      if (added.length || removed.length) {
        data.tags = tags
        lines.push({ type: 'tags', data: { added, removed } })
      }
    }
    if (changes.instanceId !== undefined && changes.instanceId !== ticket.instanceId) {
      const instanceId = await checkInstance(tx, ticket.organizationId, changes.instanceId)
      data.instance = instanceId ? { connect: { id: instanceId } } : { disconnect: true }
      lines.push({ type: 'instance', data: { from: ticket.instanceId, to: instanceId } })
    }
    if (lines.length === 0) return ticket
    data.lastActivityAt = now
    const updated = await tx.ticket.update({ where: { id: ticketId }, data })
    for (const line of lines) await record(tx, ticketId, actor, line.type, line.data)
    if (updated.assigneeId && updated.assigneeId !== ticket.assigneeId && updated.assigneeId !== actor.userId) {
      const assignee = await tx.user.findUnique({ where: { id: updated.assigneeId } })
      if (assignee) await mailAgentNotice(tx, updated, assignee, 'assigned')
    }
    if (updated.status === 'RESOLVED' && ticket.status !== 'RESOLVED') await offerSatisfaction(tx, updated)
    return updated
  }
  return outer ? run(outer) : db().$transaction(run)
}

export function normaliseTags(tags: string[]) {
  return [...new Set(tags.map((t) => t.trim().toLowerCase().replace(/\s+/g, '-')).filter((t) => /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,39}$/u.test(t)))].sort()
}

/** Realm roles that answer for the helpdesk. */
export const AGENT_ROLES = ['helpdesk-agent', 'platform-operator']

/** People who may be assigned tickets (their roles as of their last sign-in). */
export function helpdeskAgents(tx: Tx = db()) {
  return tx.user.findMany({ where: { realmRoles: { hasSome: AGENT_ROLES } }, orderBy: { name: 'asc' }, select: { id: true, name: true, email: true, locale: true } })
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

/** A fresh one-use satisfaction link for the requester, mailed with the resolution. */
async function offerSatisfaction(tx: Tx, ticket: Ticket) {
  if (ticket.satisfactionAt) return
  const token = randomBytes(24).toString('base64url')
  await tx.ticket.update({ where: { id: ticket.id }, data: { satisfactionTokenHash: hashToken(token) } })
  await mailSatisfactionRequest(tx, ticket, token)
}

export type SatisfactionLookup = { state: 'open'; ticket: Ticket } | { state: 'used' } | { state: 'invalid' }

export async function findSatisfaction(token: string): Promise<SatisfactionLookup> {
  if (!/^[A-Za-z0-9_-]{20,64}$/.test(token)) return { state: 'invalid' }
  const ticket = await db().ticket.findUnique({ where: { satisfactionTokenHash: hashToken(token) } })
  if (!ticket) return { state: 'invalid' }
  if (ticket.satisfactionAt) return { state: 'used' }
  return { state: 'open', ticket }
}

/** Stores a rating; the link works once (the compare-and-set on satisfactionAt makes sure of it). */
export async function rateTicket(token: string, rating: number, comment: string) {
  const found = await findSatisfaction(token)
  if (found.state !== 'open') return found.state
  return db().$transaction(async (tx) => {
    const { count } = await tx.ticket.updateMany({
      where: { id: found.ticket.id, satisfactionAt: null },
      data: { satisfactionRating: rating, satisfactionComment: comment || null, satisfactionAt: new Date() },
    })
    if (count === 0) return 'used' as const
    await record(tx, found.ticket.id, { ...SYSTEM, name: found.ticket.requesterName }, 'satisfaction', { rating })
    return 'rated' as const
  })
}

/** The language mails about this ticket go out in, for a person without a stored one. */
export function ticketLanguage(ticket: Pick<Ticket, 'language'>): Language {
  return isLanguage(ticket.language) ? ticket.language : 'nl'
}
