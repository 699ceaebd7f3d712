import { randomUUID } from 'node:crypto'
import type { Prisma, Ticket, TicketMessage } from '~/generated/prisma/client'
import { enqueueMail } from '../email.server'
import { env } from '../env.server'
import { isLanguage, translator, type Language } from '../i18n'
import { markdownToText } from '../markdown.server'
import { LOOP_HEADER, REPLY_ABOVE_MARKER, ticketMessageId } from './inbound-mail'
import { mailDomain } from './settings.server'
import type { Actor } from './tickets.server'

type Tx = Prisma.TransactionClient

interface Recipient {
  email: string
  language: Language
  /** A member or an agent sees the ticket in the portal; a guest only by mail. */
  portalUser: boolean
}

const ticketSubject = (ticket: Pick<Ticket, 'number' | 'subject'>) => `[#${ticket.number}] ${ticket.subject}`

/** The thread's root id: every mail about the ticket refers to it, so mail programs keep them together. */
const threadRoot = (ticket: Pick<Ticket, 'number'>) => `<ticket-${ticket.number}@${mailDomain()}>`

function languageOf(locale: string | null | undefined, fallback: string): Language {
  if (isLanguage(locale)) return locale
  return isLanguage(fallback) ? fallback : 'nl'
}

function ticketLink(ticket: Pick<Ticket, 'id'>) {
  return `${env().PORTAL_URL}/tickets/${ticket.id}`
}

/** 'person': written by someone; 'generated': a notice of ours (RFC 3834 marks it, so responders stay quiet). */
type Origin = 'person' | 'generated'

function headersFor(ticket: Pick<Ticket, 'number'>, inReplyTo: string | null, origin: Origin): Record<string, string> {
  const root = threadRoot(ticket)
  return {
    ...(inReplyTo ? { 'In-Reply-To': inReplyTo } : {}),
    References: inReplyTo && inReplyTo !== root ? `${root} ${inReplyTo}` : root,
    // Our own mails coming back (a forward to the support address, an auto-reply quoting us) are recognised as a loop.
    [LOOP_HEADER]: mailDomain(),
    ...(origin === 'generated' ? { 'Auto-Submitted': 'auto-generated' } : {}),
    'X-Auto-Response-Suppress': 'All',
  }
}

/** The requester and the watchers (members who follow the ticket), minus whoever wrote the message. */
async function recipientsOf(tx: Tx, ticket: Ticket, exceptEmail: string | null): Promise<Recipient[]> {
  const watchers = await tx.ticketWatcher.findMany({ where: { ticketId: ticket.id }, include: { user: true } })
  const byEmail = new Map<string, Recipient>()
  byEmail.set(ticket.requesterEmail.toLowerCase(), {
    email: ticket.requesterEmail,
    language: languageOf(watchers.find((w) => w.userId === ticket.requesterId)?.user.locale, ticket.language),
    portalUser: Boolean(ticket.requesterId),
  })
  for (const w of watchers) {
    byEmail.set(w.user.email.toLowerCase(), { email: w.user.email, language: languageOf(w.user.locale, ticket.language), portalUser: true })
  }
  if (exceptEmail) byEmail.delete(exceptEmail.toLowerCase())
  // An erased requester keeps an address that can never receive mail.
  return [...byEmail.values()].filter((r) => !r.email.endsWith('.invalid'))
}

async function assigneeOf(tx: Tx, ticket: Ticket): Promise<Recipient | null> {
  if (!ticket.assigneeId) return null
  const user = await tx.user.findUnique({ where: { id: ticket.assigneeId } })
  return user ? { email: user.email, language: languageOf(user.locale, 'nl'), portalUser: true } : null
}

function body(lang: Language, intro: string, message: Pick<TicketMessage, 'body'> | null, ticket: Ticket, recipient: Recipient) {
  const t = translator(lang)
  const parts = [REPLY_ABOVE_MARKER, '', intro]
  if (message) parts.push('', markdownToText(message.body))
  parts.push('', '—', t('helpdesk.mail.footer', { number: String(ticket.number), status: t(`ticket.status.${ticket.status}`) }))
  if (recipient.portalUser) parts.push(t('helpdesk.mail.link', { link: ticketLink(ticket) }))
  parts.push(t('helpdesk.mail.replyHint'))
  return parts.join('\n')
}

async function send(tx: Tx, ticket: Ticket, recipient: Recipient, subject: string, text: string, inReplyTo: string | null, origin: Origin) {
  await enqueueMail(
    {
      to: recipient.email,
      subject,
      text,
      messageId: ticketMessageId(ticket.number, randomUUID(), mailDomain()),
      replyTo: env().HELPDESK_ADDRESS,
      headers: headersFor(ticket, inReplyTo, origin),
    },
    tx,
  )
}

/** "We have your request #N": to the requester, with what they wrote, so they can answer by mail. */
export async function mailTicketCreated(tx: Tx, ticket: Ticket, message: TicketMessage) {
  for (const r of await recipientsOf(tx, ticket, null)) {
    if (r.email.toLowerCase() !== ticket.requesterEmail.toLowerCase()) continue
    const t = translator(r.language)
    await send(tx, ticket, r, ticketSubject(ticket), body(r.language, t('helpdesk.mail.created', { number: String(ticket.number) }), message, ticket, r), message.messageId, 'generated')
  }
}

/**
 * A public message goes to everyone on the ticket but its author: an
 * agent's answer to the requester and watchers, the requester's answer to
 * the assigned agent and the other watchers. Internal notes never leave.
 */
export async function mailTicketMessage(tx: Tx, ticket: Ticket, message: TicketMessage, author: Actor) {
  if (message.kind !== 'PUBLIC') return
  const recipients = await recipientsOf(tx, ticket, author.email)
  if (!author.agent) {
    const assignee = await assigneeOf(tx, ticket)
    if (assignee && assignee.email.toLowerCase() !== author.email?.toLowerCase()) recipients.push(assignee)
  }
  for (const r of recipients) {
    const t = translator(r.language)
    await send(tx, ticket, r, `Re: ${ticketSubject(ticket)}`, body(r.language, t('helpdesk.mail.wrote', { name: message.authorName }), message, ticket, r), message.messageId, 'person')
  }
}

/** The one-use link to rate the help, sent when the ticket is resolved. */
export async function mailSatisfactionRequest(tx: Tx, ticket: Ticket, token: string) {
  for (const r of await recipientsOf(tx, ticket, null)) {
    if (r.email.toLowerCase() !== ticket.requesterEmail.toLowerCase()) continue
    const t = translator(r.language)
    const intro = t('helpdesk.mail.resolved', { link: `${env().PORTAL_URL}/satisfaction/${token}`, days: String(env().HELPDESK_AUTO_CLOSE_DAYS) })
    await send(tx, ticket, r, `Re: ${ticketSubject(ticket)}`, body(r.language, intro, null, { ...ticket, status: 'RESOLVED' }, r), threadRoot(ticket), 'generated')
  }
}

/** A notice to agents (assignment, SLA warning or breach, a ticket reopened by its pending date). */
export async function mailAgentNotice(tx: Tx, ticket: Ticket, to: { email: string; locale: string | null }, kind: 'assigned' | 'urgent' | 'sla.warning' | 'sla.breach' | 'reopened', vars: Record<string, string> = {}) {
  const lang = languageOf(to.locale, 'nl')
  const t = translator(lang)
  const recipient: Recipient = { email: to.email, language: lang, portalUser: true }
  const all = { number: String(ticket.number), subject: ticket.subject, link: ticketLink(ticket), ...vars }
  await send(tx, ticket, recipient, t(`helpdesk.mail.agent.${kind}.subject`, all), t(`helpdesk.mail.agent.${kind}.body`, all), threadRoot(ticket), 'generated')
}

/** Answers mail the helpdesk cannot take (unknown sender, closed ticket) — marked as an auto-reply, so no responder answers it back. */
export async function mailInboundRefusal(
  tx: Tx,
  to: string,
  lang: Language,
  kind: 'unknown-sender' | 'closed-ticket',
  original: { subject: string; messageId: string },
  vars: Record<string, string> = {},
) {
  const all = { address: env().HELPDESK_ADDRESS, portal: env().PORTAL_URL, ...vars }
  // A stranger's language is unknown: they get both, theirs most likely first.
  const text =
    kind === 'unknown-sender'
      ? [translator('nl')(`helpdesk.mail.refused.${kind}`, all), '— English —', translator('en')(`helpdesk.mail.refused.${kind}`, all)].join('\n\n')
      : translator(lang)(`helpdesk.mail.refused.${kind}`, all)
  await enqueueMail(
    {
      to,
      subject: `Re: ${original.subject}`.slice(0, 250),
      text,
      messageId: `<refusal.${randomUUID()}@${mailDomain()}>`,
      replyTo: env().HELPDESK_ADDRESS,
      headers: { 'In-Reply-To': original.messageId, References: original.messageId, 'Auto-Submitted': 'auto-replied', [LOOP_HEADER]: mailDomain(), 'X-Auto-Response-Suppress': 'All' },
    },
    tx,
  )
}
