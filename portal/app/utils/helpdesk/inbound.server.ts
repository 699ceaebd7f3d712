import { createHash } from 'node:crypto'
import { simpleParser, type ParsedMail } from 'mailparser'
import type { Prisma, Ticket, User } from '~/generated/prisma/client'
import { AttachmentError } from '../attachments.server'
import { db } from '../db.server'
import { env } from '../env.server'
import { isLanguage, type Language } from '../i18n'
import { logger } from '../logger.server'
import {
  classifyInboundMail,
  readInboundMail,
  ticketNumberFromAddress,
  ticketNumberFromMessageIds,
  ticketNumberFromSubject,
  type InboundMail,
} from './inbound-mail'
import { attachments, mailDomain } from './settings.server'
import { mailInboundRefusal } from './ticket-mail.server'
import { AGENT_ROLES, addMessage, createTicket, TicketError, type Actor, type StoredAttachment } from './tickets.server'
import { discard } from './uploads.server'

type Tx = Prisma.TransactionClient

export type InboundOutcome =
  | 'threaded'
  | 'created'
  | 'follow-up'
  | 'guest'
  | 'unknown-sender'
  | 'duplicate'
  | 'auto-reply'
  | 'bounce'
  | 'loop'
  | 'list'
  | 'malformed'

export interface InboundResult {
  outcome: InboundOutcome
  ticketId?: string
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** Our own addresses: mail from them is a loop, never a ticket. */
function ownAddresses() {
  const fromHeader = env().MAIL_FROM.match(/<([^>]+)>/)?.[1] ?? env().MAIL_FROM
  return [env().HELPDESK_ADDRESS, fromHeader].map((a) => a.trim().toLowerCase())
}

/** Whether an SMTP recipient is the support address (or its plus form, support+1234@…). */
export function isSupportAddress(address: string) {
  const [local = '', domain = ''] = address.trim().toLowerCase().split('@')
  const [supportLocal = '', supportDomain = ''] = env().HELPDESK_ADDRESS.toLowerCase().split('@')
  return domain === supportDomain && (local === supportLocal || local.startsWith(`${supportLocal}+`))
}

function subjectOf(mail: InboundMail) {
  const cleaned = mail.subject.replace(/^\s*((re|fw|fwd|aw|wg|antw|doorst)\s*:\s*)+/i, '').replace(/\[#\d+\]\s*/, '').trim()
  return (cleaned || '(no subject)').slice(0, 150)
}

function actorFor(user: User | null, mail: InboundMail): Actor {
  const address = mail.from!.address
  if (!user) return { userId: null, name: mail.from!.name || address, email: address, agent: false }
  return { userId: user.id, name: user.name, email: user.email, agent: user.realmRoles.some((r) => AGENT_ROLES.includes(r)) }
}

/**
 * The ticket a mail answers: by our Message-IDs in In-Reply-To/References
 * (the ones stored on messages first, then the pattern we give them), then
 * by "[#1234]" in the subject, then by a plus address (support+1234@…).
 */
async function threadOf(tx: Tx, mail: InboundMail): Promise<Ticket | null> {
  const ids = [...mail.inReplyTo, ...[...mail.references].reverse()]
  if (ids.length) {
    const message = await tx.ticketMessage.findFirst({ where: { messageId: { in: ids } }, include: { ticket: true }, orderBy: { createdAt: 'desc' } })
    if (message) return message.ticket
  }
  const number =
    ticketNumberFromMessageIds(ids, mailDomain()) ??
    ticketNumberFromSubject(mail.subject) ??
    mail.to.map((a) => ticketNumberFromAddress(a, env().HELPDESK_ADDRESS)).find((n) => n !== null) ??
    null
  return number ? tx.ticket.findUnique({ where: { number } }) : null
}

/**
 * May this sender write on this ticket? A member of its organisation, an
 * agent, or the guest who opened it. Anyone else only learns nothing: the
 * mail is handled as a new one, so a ticket number in a subject opens no
 * door.
 */
async function mayWriteOn(tx: Tx, ticket: Ticket, user: User | null, address: string) {
  if (user?.realmRoles.some((r) => AGENT_ROLES.includes(r))) return true
  if (ticket.organizationId && user) {
    const membership = await tx.membership.findUnique({ where: { userId_organizationId: { userId: user.id, organizationId: ticket.organizationId } } })
    if (membership) return true
  }
  return !ticket.organizationId && ticket.requesterEmail.toLowerCase() === address
}

/** The organisation a member's new mail is for: the one they last worked in, else their first. */
async function organisationFor(tx: Tx, user: User) {
  const session = await tx.session.findFirst({ where: { userId: user.id, activeOrganizationId: { not: null } }, orderBy: { createdAt: 'desc' } })
  if (session?.activeOrganizationId) {
    const stillMember = await tx.membership.findUnique({ where: { userId_organizationId: { userId: user.id, organizationId: session.activeOrganizationId } } })
    if (stillMember) return session.activeOrganizationId
  }
  const first = await tx.membership.findFirst({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } })
  return first?.organizationId ?? null
}

async function storeAttachments(mail: InboundMail) {
  const stored: StoredAttachment[] = []
  const refused: { fileName: string; reason: string }[] = []
  for (const a of mail.attachments) {
    try {
      stored.push(await attachments().save({ fileName: a.fileName, declaredType: a.contentType, data: a.content }))
    } catch (error) {
      if (!(error instanceof AttachmentError)) {
        await discard(stored)
        throw error
      }
      refused.push({ fileName: a.fileName, reason: error.code })
    }
  }
  return { stored, refused }
}

function bodyWith(text: string, refused: { fileName: string; reason: string }[]) {
  const lines = [text.trim() || '(—)']
  // The sender is not in the portal to see a refusal: it goes on the ticket, for the agent to follow up.
  for (const r of refused) lines.push('', `> ${r.fileName}: not kept (${r.reason === 'too-large' ? `larger than ${env().ATTACHMENT_MAX_MB} MB` : r.reason === 'empty' ? 'empty' : 'file type not accepted'})`)
  return lines.join('\n')
}

async function recordInbound(tx: Tx, mail: InboundMail, outcome: InboundOutcome, ticketId?: string) {
  const address = (mail.from?.address ?? '').toLowerCase()
  await tx.inboundMail.create({
    data: { messageId: mail.messageId, fromDomain: address.split('@')[1] ?? '', fromHash: sha256(address), outcome, ticketId: ticketId ?? null },
  })
}

function isUniqueViolation(error: unknown) {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002'
}

/**
 * Handles one mail to the support address, as the SMTP listener received
 * it: a reply threads into its ticket, a new mail from a member opens a
 * ticket for their organisation, an unknown sender gets one polite answer a
 * day (or a guest ticket when HELPDESK_GUEST_TICKETS allows it). Auto-replies,
 * bounces, lists and our own mail coming back are recorded and dropped.
 * A Message-ID seen before is dropped too, so a mail delivered twice is
 * stored once. A failure throws, and the listener answers 451: the sender
 * tries again later and nothing is lost.
 */
export async function receiveInboundMail(raw: Buffer, envelope: { mailFrom: string | null } = { mailFrom: '' }): Promise<InboundResult> {
  let parsed: ParsedMail
  try {
    parsed = await simpleParser(raw)
  } catch (error) {
    logger.warn({ err: error, size: raw.length }, 'inbound mail could not be parsed')
    return { outcome: 'malformed' }
  }
  const mail = readInboundMail(parsed, { size: raw.length })
  if (await db().inboundMail.findUnique({ where: { messageId: mail.messageId }, select: { id: true } })) return { outcome: 'duplicate' }

  const kind = classifyInboundMail(mail, parsed.headers, { ownAddresses: ownAddresses(), envelopeFrom: envelope.mailFrom })
  if (kind.kind !== 'human' || !mail.from?.address) {
    const outcome: InboundOutcome = kind.kind === 'human' ? 'malformed' : kind.kind
    try {
      await db().$transaction((tx) => recordInbound(tx, mail, outcome))
    } catch (error) {
      if (isUniqueViolation(error)) return { outcome: 'duplicate' }
      throw error
    }
    logger.info({ outcome, reason: kind.kind === 'human' ? 'no sender' : kind.reason }, 'inbound mail dropped')
    return { outcome }
  }

  const { stored, refused } = await storeAttachments(mail)
  try {
    const result = await db().$transaction(async (tx) => handleHumanMail(tx, mail, stored, refused))
    logger.info({ outcome: result.outcome }, 'inbound mail handled')
    return result
  } catch (error) {
    await discard(stored)
    if (isUniqueViolation(error)) return { outcome: 'duplicate' }
    throw error
  }
}

async function handleHumanMail(tx: Tx, mail: InboundMail, stored: StoredAttachment[], refused: { fileName: string; reason: string }[]): Promise<InboundResult> {
  const address = mail.from!.address.toLowerCase()
  const user = await tx.user.findUnique({ where: { email: address } })
  const actor = actorFor(user, mail)
  const language: Language = isLanguage(user?.locale) ? user.locale : 'nl'
  const thread = await threadOf(tx, mail)

  if (thread && (await mayWriteOn(tx, thread, user, address))) {
    if (thread.status !== 'CLOSED') {
      try {
        await addMessage(actor, thread.id, { body: bodyWith(mail.replyText || mail.text, refused), channel: 'EMAIL', messageId: mail.messageId, attachments: stored }, tx)
      } catch (error) {
        if (!(error instanceof TicketError && error.key === 'ticket.error.closed')) throw error
      }
      await recordInbound(tx, mail, 'threaded', thread.id)
      return { outcome: 'threaded', ticketId: thread.id }
    }
    // A closed ticket takes no more replies; what was written becomes a new ticket that points back to it.
    const followUp = await createTicket(
      { ...actor, agent: true },
      {
        organizationId: thread.organizationId,
        subject: subjectOf(mail),
        body: bodyWith(mail.replyText || mail.text, refused),
        category: thread.category,
        priority: 'NORMAL',
        instanceId: thread.instanceId,
        requester: { userId: user?.id ?? null, email: address, name: actor.name, language: isLanguage(thread.language) ? thread.language : language },
        channel: 'EMAIL',
        messageId: mail.messageId,
        attachments: stored,
        note: { followUpOf: thread.number },
      },
      tx,
    )
    await mailInboundRefusal(tx, address, language, 'closed-ticket', { subject: mail.subject, messageId: mail.messageId }, { number: String(thread.number), newNumber: String(followUp.number) })
    await recordInbound(tx, mail, 'follow-up', followUp.id)
    return { outcome: 'follow-up', ticketId: followUp.id }
  }

  const organizationId = user ? await organisationFor(tx, user) : null
  if (organizationId || env().HELPDESK_GUEST_TICKETS) {
    const ticket = await createTicket(
      { ...actor, agent: true },
      {
        organizationId,
        subject: subjectOf(mail),
        body: bodyWith(mail.text, refused),
        category: 'QUESTION',
        priority: 'NORMAL',
        requester: { userId: organizationId ? user!.id : null, email: address, name: actor.name, language },
        channel: 'EMAIL',
        messageId: mail.messageId,
        attachments: stored,
      },
      tx,
    )
    const outcome = organizationId ? 'created' : 'guest'
    await recordInbound(tx, mail, outcome, ticket.id)
    return { outcome, ticketId: ticket.id }
  }

  // Unknown sender: one polite answer a day at most, so two robots cannot keep each other busy.
  await discard(stored)
  stored.length = 0
  const answeredToday = await tx.inboundMail.findFirst({
    where: { fromHash: sha256(address), outcome: 'unknown-sender', receivedAt: { gt: new Date(Date.now() - 24 * 3600_000) } },
  })
  if (!answeredToday) await mailInboundRefusal(tx, address, language, 'unknown-sender', { subject: mail.subject, messageId: mail.messageId })
  await recordInbound(tx, mail, 'unknown-sender')
  return { outcome: 'unknown-sender' }
}
