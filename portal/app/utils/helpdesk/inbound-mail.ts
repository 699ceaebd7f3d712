import { createHash } from 'node:crypto'
import type { AddressObject, EmailAddress, ParsedMail } from 'mailparser'

/**
 * The line our outgoing helpdesk mails carry above the quoted conversation. Everything
 * from this line down is history the customer's client quoted back to us.
 */
export const REPLY_ABOVE_MARKER = '##- Typ je antwoord boven deze lijn / Type your reply above this line -##'

/**
 * Header our outgoing mails carry (value: the portal's host). Mail clients do not copy
 * X- headers into a reply, so a message that still carries it was sent by a machine
 * answering one of our mails: an auto-responder bouncing it back, or a forwarding rule.
 */
export const LOOP_HEADER = 'X-Commons-Loop'

export interface InboundAttachment {
  fileName: string
  contentType: string
  size: number
  content: Buffer
}

export interface InboundMail {
  /** Normalised `<...>`; derived from the content when the sender set none, see {@link readInboundMail}. */
  messageId: string
  /** Null when the message names no sender we could parse. */
  from: { address: string; name: string } | null
  replyTo: string[]
  to: string[]
  cc: string[]
  subject: string
  inReplyTo: string[]
  references: string[]
  date: Date | null
  /** The whole body as text, quoted history included. */
  text: string
  /** Only what the sender wrote this time: quoted history and our marker cut off. */
  replyText: string
  attachments: InboundAttachment[]
  /** Size of the raw message in bytes, as received. */
  size: number
}

export type InboundMailKind =
  | { kind: 'human' }
  | { kind: 'auto-reply' | 'bounce' | 'loop' | 'list'; reason: string }

// ---------------------------------------------------------------------------
// Reading

export function readInboundMail(parsed: ParsedMail, raw: { size: number }): InboundMail {
  const from = firstMailbox(parsed.from)
  const subject = parsed.subject?.trim() ?? ''
  const text = bodyText(parsed)
  return {
    messageId: normaliseMessageIds(parsed.messageId)[0] ?? derivedMessageId(parsed, from, subject, text),
    from,
    replyTo: addressesOf(parsed.replyTo),
    to: addressesOf(parsed.to),
    cc: addressesOf(parsed.cc),
    subject,
    inReplyTo: normaliseMessageIds(parsed.inReplyTo),
    references: normaliseMessageIds(parsed.references),
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date : null,
    text,
    replyText: stripQuotedHistory(text),
    attachments: realAttachments(parsed),
    size: raw.size,
  }
}

/**
 * Pulls the `<id>` tokens out of a Message-ID style header. In-Reply-To may carry
 * several ids and comments ("<a@b> (Jan's message of ...)"), which mailparser leaves
 * as one string; a bare id without brackets is wrapped.
 */
export function normaliseMessageIds(value: string | string[] | undefined | null): string[] {
  const ids: string[] = []
  for (const part of [value ?? []].flat()) {
    const bracketed = part.match(/<[^<>\s]+>/g)
    if (bracketed) {
      ids.push(...bracketed)
      continue
    }
    for (const token of part.split(/\s+/)) {
      const bare = token.replace(/^<|>$/g, '')
      if (bare.includes('@')) ids.push(`<${bare}>`)
    }
  }
  return [...new Set(ids)]
}

/**
 * A relay may deliver the same message twice (a retry after a lost 250). Without a
 * Message-ID we still need a stable key to dedupe on, so it is derived from what the
 * sender wrote. The raw Date header is used, not `parsed.date`: mailparser substitutes
 * the current time for a date it cannot parse. The size is left out on purpose: each
 * relay adds its own Received headers, so two copies rarely have the same size.
 */
function derivedMessageId(parsed: ParsedMail, from: InboundMail['from'], subject: string, text: string) {
  const rawDate = parsed.headerLines.find((line) => line.key === 'date')?.line ?? ''
  const html = typeof parsed.html === 'string' ? parsed.html : ''
  const hash = createHash('sha256')
    .update([from?.address ?? '', rawDate, subject, text, html].join('\u0000'))
    .digest('hex')
  return `<derived-${hash.slice(0, 40)}@inbound.invalid>`
}

function mailboxes(value: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  const flatten = (list: EmailAddress[]): EmailAddress[] => list.flatMap((a) => (a.group ? flatten(a.group) : [a]))
  return [value ?? []].flat().flatMap((header) => flatten(header.value))
}

function addressesOf(value: AddressObject | AddressObject[] | undefined): string[] {
  const out = mailboxes(value).flatMap((m) => (m.address ? [m.address.trim().toLowerCase()] : []))
  return [...new Set(out)]
}

function firstMailbox(value: AddressObject | undefined): InboundMail['from'] {
  const mailbox = mailboxes(value).find((m) => m.address)
  if (!mailbox?.address) return null
  return { address: mailbox.address.trim().toLowerCase(), name: mailbox.name.trim() }
}

function bodyText(parsed: ParsedMail): string {
  // mailparser already turns an HTML-only body into text; this only covers the case
  // where that conversion failed (textConversionError) or was switched off.
  const text = parsed.text ?? ''
  if (text.trim() || typeof parsed.html !== 'string') return normaliseNewlines(text)
  return normaliseNewlines(htmlToPlainText(parsed.html))
}

function normaliseNewlines(text: string) {
  return text.replace(/\r\n?/g, '\n')
}

function htmlToPlainText(html: string) {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|tr|h[1-6]|blockquote)\s*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#39;/gi, "'")
    .replace(/&amp;/gi, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

/**
 * An image inside multipart/related without a file name is part of the HTML body
 * (a logo in a signature), not something the customer meant to send us.
 */
function realAttachments(parsed: ParsedMail): InboundAttachment[] {
  return parsed.attachments
    .filter((a) => !(a.related && !a.filename))
    .map((a, index) => ({
      fileName: a.filename?.trim() || fallbackFileName(a.contentType, index),
      contentType: a.contentType,
      size: a.size,
      content: a.content,
    }))
}

function fallbackFileName(contentType: string, index: number) {
  const subtype = contentType.split('/')[1]?.toLowerCase() ?? ''
  const extension = /^[a-z0-9]{2,5}$/.test(subtype) ? `.${subtype}` : ''
  return `attachment-${index + 1}${extension}`
}

// ---------------------------------------------------------------------------
// Quoted history

const ATTRIBUTION_LINES: RegExp[] = [
  /^On\b.{4,}\bwrote:\s*$/i,
  /^Op\b.{4,}\bschreef\b.*:\s*$/i,
  /^Op\b.{4,}\bhet volgende geschreven:\s*$/i,
  /^Am\b.{4,}\bschrieb\b.*:\s*$/i,
  /^Le\b.{4,}\ba écrit\s*:\s*$/i,
]

const SEPARATOR_LINES: RegExp[] = [
  /^-{3,}\s*(Original Message|Oorspronkelijk bericht|Origineel bericht|Ursprüngliche Nachricht|Message d'origine)\s*-{3,}$/i,
  /^-{3,}\s*(Forwarded message|Doorgestuurd bericht)\s*-{3,}$/i,
]

const HEADER_BLOCK_START = /^\*?(From|Van|Von|De)\s*:\*?\s*\S/i
const HEADER_BLOCK_FOLLOW = /^\*?(Sent|Verzonden|Gesendet|Envoyé|Date|Datum)\s*:\*?\s*\S/i
const OUTLOOK_RULE = /^_{10,}$/

function isOurMarker(line: string) {
  // Clients re-wrap or quote long lines, so match the two halves, not the exact line.
  return /##-/.test(line) && /(boven deze lijn|above this line)/i.test(line)
}

/**
 * Index of the first line where quoted history starts, or -1. Gmail wraps a long
 * attribution over two lines, so each line is also tried joined with the next one.
 */
function historyStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim()
    const joined = `${line} ${(lines[i + 1] ?? '').trim()}`.trim()
    if (isOurMarker(line)) return i
    if (SEPARATOR_LINES.some((re) => re.test(line))) return i
    if (ATTRIBUTION_LINES.some((re) => re.test(line) || re.test(joined))) return i
    if (HEADER_BLOCK_START.test(line)) {
      const next = lines.slice(i + 1, i + 5).map((l) => l.trim())
      if (next.some((l) => HEADER_BLOCK_FOLLOW.test(l))) {
        const previous = (lines[i - 1] ?? '').trim()
        return OUTLOOK_RULE.test(previous) ? i - 1 : i
      }
    }
  }
  return -1
}

/**
 * The new part of a reply. When cutting at the first reply header leaves nothing (the
 * sender answered inline, below the attribution), only the quoted lines are dropped.
 */
export function stripQuotedHistory(text: string): string {
  const lines = normaliseNewlines(text).split('\n')
  const start = historyStart(lines)
  const above = start >= 0 ? lines.slice(0, start) : lines
  const unquoted = (candidate: string[]) => tidy(candidate.filter((l) => !/^\s*>/.test(l)))
  const reply = unquoted(above)
  if (reply || start < 0) return reply
  const inline = lines.filter((l) => {
    const trimmed = l.trim()
    return !isOurMarker(trimmed) && !ATTRIBUTION_LINES.some((re) => re.test(trimmed))
  })
  return unquoted(inline)
}

function tidy(lines: string[]) {
  return lines
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

// ---------------------------------------------------------------------------
// Classification

const AUTO_REPLY_SUBJECT =
  /^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|automatisch antwoord|afwezig|niet aanwezig|abwesenheitsnotiz|automatische antwort)\b/i

/**
 * Decides whether a mail may open or update a ticket. Anything a machine sent is kept
 * out: answering it would start a mail loop (our confirmation → their auto-reply → our
 * confirmation ...) or bury agents in bounces.
 *
 * `envelopeFrom` is the SMTP MAIL FROM when known, `null` for the null sender `<>` that
 * bounces use (RFC 5321 §4.5.5). A relay that forwards to us does not add Return-Path,
 * so the envelope is the only place that tells.
 */
export function classifyInboundMail(
  mail: Pick<InboundMail, 'from' | 'subject'>,
  headers: Map<string, unknown>,
  opts: { ownAddresses: string[]; envelopeFrom?: string | null },
): InboundMailKind {
  const loop = headerText(headers, LOOP_HEADER)
  if (loop !== null) return { kind: 'loop', reason: `${LOOP_HEADER}: ${loop}` }
  if (mail.from && opts.ownAddresses.some((own) => sameMailbox(own, mail.from?.address ?? ''))) {
    return { kind: 'loop', reason: 'sent from one of our own addresses' }
  }

  const bounce = bounceReason(mail, headers, opts.envelopeFrom)
  if (bounce) return { kind: 'bounce', reason: bounce }

  const autoReply = autoReplyReason(mail, headers)
  if (autoReply) return { kind: 'auto-reply', reason: autoReply }

  const list = headers.get('list')
  if (isRecord(list) && ('id' in list || 'unsubscribe' in list)) {
    return { kind: 'list', reason: 'id' in list ? 'List-Id header' : 'List-Unsubscribe header' }
  }

  const precedence = (headerText(headers, 'precedence') ?? headerText(headers, 'x-precedence'))?.toLowerCase()
  if (precedence === 'list') return { kind: 'list', reason: 'Precedence: list' }
  if (precedence && ['bulk', 'junk', 'auto_reply'].includes(precedence)) {
    return { kind: 'auto-reply', reason: `Precedence: ${precedence}` }
  }
  return { kind: 'human' }
}

function bounceReason(mail: Pick<InboundMail, 'from'>, headers: Map<string, unknown>, envelopeFrom: string | null | undefined) {
  const contentType = headers.get('content-type')
  if (isRecord(contentType) && String(contentType.value).toLowerCase() === 'multipart/report') {
    const params = isRecord(contentType.params) ? contentType.params : {}
    if (String(params['report-type']).toLowerCase() === 'delivery-status') return 'delivery status report'
  }
  const local = mail.from?.address.split('@')[0] ?? ''
  if (/^(mailer-daemon|postmaster)$/i.test(local)) return `sent by ${local.toLowerCase()}`
  if (envelopeFrom === null || envelopeFrom === '') return 'null envelope sender'
  if (headers.has('return-path') && returnPathIsNull(headers.get('return-path'))) return 'empty Return-Path'
  return null
}

function autoReplyReason(mail: Pick<InboundMail, 'subject'>, headers: Map<string, unknown>) {
  const autoSubmitted = headerText(headers, 'auto-submitted')?.toLowerCase()
  // RFC 3834 §5: any value but "no" means no human wrote it; parameters may follow a ';'.
  if (autoSubmitted && autoSubmitted.split(';')[0]?.trim() !== 'no') return `Auto-Submitted: ${autoSubmitted}`
  const contentType = headers.get('content-type')
  if (isRecord(contentType) && String(contentType.value).toLowerCase() === 'multipart/report') {
    return 'report (read receipt or similar)'
  }
  for (const name of ['x-autoreply', 'x-autorespond', 'x-autogenerated']) {
    const value = headerText(headers, name)
    if (value !== null) return `${name}: ${value}`
  }
  const suppress = headerText(headers, 'x-auto-response-suppress')
  if (suppress && /\b(oof|all|autoreply)\b/i.test(suppress)) return `X-Auto-Response-Suppress: ${suppress}`
  if (AUTO_REPLY_SUBJECT.test(mail.subject)) return 'out-of-office subject'
  return null
}

function returnPathIsNull(value: unknown) {
  const entries = [value].flat()
  return entries.every((entry) => {
    if (!isRecord(entry) || !Array.isArray(entry.value)) return false
    return entry.value.every((mailbox: unknown) => !isRecord(mailbox) || !mailbox.address)
  })
}

/** A header as a string, or null when absent. Repeated headers are joined. */
function headerText(headers: Map<string, unknown>, name: string): string | null {
  const value = headers.get(name.toLowerCase())
  if (value === undefined || value === null) return null
  const parts = [value].flat().filter((v): v is string => typeof v === 'string')
  return parts.length ? parts.join(', ').trim() : null
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `support+1234@x` is the same mailbox as `support@x`: plus-addressing is ours too. */
function sameMailbox(a: string, b: string) {
  const key = (address: string) => {
    const [local = '', domain = ''] = splitAddress(address)
    return `${local.split('+')[0]}@${domain}`
  }
  return key(a) === key(b)
}

function splitAddress(address: string): [string, string] | [] {
  const bare = address.trim().replace(/^<|>$/g, '').toLowerCase()
  const at = bare.lastIndexOf('@')
  if (at <= 0 || at === bare.length - 1) return []
  return [bare.slice(0, at), bare.slice(at + 1)]
}

// ---------------------------------------------------------------------------
// Threading

function positiveInteger(digits: string | undefined) {
  if (!digits) return null
  const n = Number(digits)
  return Number.isSafeInteger(n) && n > 0 ? n : null
}

/** `Re: [#1234] Printer kapot`, `AW: [Ticket#1234] ...`, `[Ticket #1234]` anywhere in the subject. */
export function ticketNumberFromSubject(subject: string): number | null {
  return positiveInteger(subject.match(/\[\s*(?:ticket\s*)?#\s*(\d{1,15})\s*\]/i)?.[1])
}

/** `support+1234@example.org` → 1234, when `supportAddress` is `support@example.org`. */
export function ticketNumberFromAddress(address: string, supportAddress: string): number | null {
  const [local, domain] = splitAddress(address)
  const [supportLocal, supportDomain] = splitAddress(supportAddress)
  if (!local || !supportLocal || domain !== supportDomain) return null
  const prefix = `${supportLocal}+`
  if (!local.startsWith(prefix)) return null
  const tag = local.slice(prefix.length)
  return /^\d{1,15}$/.test(tag) ? positiveInteger(tag) : null
}

/**
 * Message-ID for a mail we send about a ticket. The ticket number inside lets a reply
 * thread even when the lookup of the id it answers finds nothing (the row was
 * archived, or the mail went out from another instance).
 */
export function ticketMessageId(ticketNumber: number, messageUuid: string, domain: string): string {
  if (!Number.isSafeInteger(ticketNumber) || ticketNumber <= 0) throw new Error(`invalid ticket number: ${ticketNumber}`)
  if (!/^[0-9a-f-]+$/i.test(messageUuid)) throw new Error(`invalid message uuid: ${messageUuid}`)
  if (!/^[^\s<>@"()[\],;:\\]+$/.test(domain)) throw new Error(`invalid domain: ${domain}`)
  return `<ticket-${ticketNumber}.${messageUuid.toLowerCase()}@${domain.toLowerCase()}>`
}

/**
 * The ticket number of the first of `ids` that is one of ours for `domain`: a message
 * id from {@link ticketMessageId}, or a thread root `<ticket-1234@domain>` without the
 * uuid. Pass In-Reply-To first, then References newest first, so the most direct
 * parent wins.
 */
export function ticketNumberFromMessageIds(ids: string[], domain: string): number | null {
  const ours = domain.trim().toLowerCase()
  for (const id of ids) {
    const match = id.trim().match(/^<?ticket-(\d{1,15})(?:\.[0-9a-f-]+)?@([^<>@\s]+)>?$/i)
    if (match && match[2]?.toLowerCase() === ours) {
      const n = positiveInteger(match[1])
      if (n) return n
    }
  }
  return null
}
