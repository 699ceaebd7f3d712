/**
 * The helpdesk's privacy duties (AVG/GDPR): an organisation takes out every
 * ticket about it (right of access and portability), a person can be erased
 * from the helpdesk (right to erasure) while the tickets stay useful to the
 * others on them, and closed tickets go after the retention period.
 *
 * Database changes happen in one transaction; files on disk are removed only
 * after it committed, so a rollback never leaves a row without its file.
 */
import { createHash, randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { Prisma } from '~/generated/prisma/client'
import { db } from '../db.server'
import { env } from '../env.server'
import { logger } from '../logger.server'
import { attachments } from './settings.server'
import type { Actor } from './tickets.server'

type Tx = Prisma.TransactionClient

/** What erased names and authors become; the pages show it as "Erased person" in the reader's language. */
export const ERASED = '[erased]'

/** An address that can never receive mail (RFC 2606); ticket mail skips `.invalid` recipients. */
const erasedAddress = () => `erased-${randomBytes(8).toString('hex')}@erased.invalid`

/** Enough time for an erasure or a purge batch over many tickets; the default five seconds is not. */
const TRANSACTION = { timeout: 120_000, maxWait: 10_000 }

/** Tickets purged in one transaction, so one purge does not hold thousands of row locks. */
const PURGE_BATCH = 200

/** The pseudonym the audit log keeps for an erased person: proves which address was erased when asked, names nobody. */
export function personHash(email: string) {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex')
}

// ---------------------------------------------------------------------------
// Export: a tar archive (ustar), written here; the format is 512-byte blocks.

const BLOCK = 512

function octal(value: number, width: number) {
  // width - 1 digits and a NUL, as ustar wants.
  return value.toString(8).padStart(width - 1, '0') + '\0'
}

/** A ustar header; `name` must be ASCII, its last part at most 100 bytes, the folders at most 155. */
function tarHeader(name: string, size: number, mtime: Date) {
  const header = Buffer.alloc(BLOCK, 0)
  let prefix = ''
  let base = name
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2)
    prefix = name.slice(0, cut)
    base = name.slice(cut + 1)
  }
  if (Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`tar entry name too long: ${name}`)
  header.write(base, 0, 100, 'ascii')
  header.write(octal(0o644, 8), 100, 8, 'ascii')
  header.write(octal(0, 8), 108, 8, 'ascii')
  header.write(octal(0, 8), 116, 8, 'ascii')
  header.write(octal(size, 12), 124, 12, 'ascii')
  header.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136, 12, 'ascii')
  header.write('        ', 148, 8, 'ascii')
  header.write('0', 156, 1, 'ascii')
  header.write('ustar\0', 257, 6, 'ascii')
  header.write('00', 263, 2, 'ascii')
  header.write(prefix, 345, 155, 'ascii')
  let sum = 0
  for (const byte of header) sum += byte
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii')
  return header
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0)

/** A file name fit for the archive: ASCII, no folders, at most `max` bytes, the extension kept. */
function archiveName(fileName: string, max: number) {
  const ascii =
    fileName
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '') || 'attachment'
  if (ascii.length <= max) return ascii
  const dot = ascii.lastIndexOf('.')
  const extension = dot > 0 && ascii.length - dot <= 10 ? ascii.slice(dot) : ''
  return ascii.slice(0, max - extension.length) + extension
}

const attachmentSelect = { id: true, fileName: true, contentType: true, size: true, sha256: true, storageKey: true, createdAt: true, messageId: true } as const

const ticketInclude = {
  assignee: { select: { name: true } },
  group: { select: { name: true } },
  instance: { select: { id: true, recipeId: true } },
  messages: { orderBy: { createdAt: 'asc' }, select: { id: true, kind: true, channel: true, authorName: true, authorEmail: true, fromAgent: true, body: true, createdAt: true } },
  attachments: { orderBy: { createdAt: 'asc' }, select: attachmentSelect },
  events: { orderBy: { createdAt: 'asc' }, select: { type: true, data: true, createdAt: true, actor: { select: { name: true } } } },
} satisfies Prisma.TicketInclude

type ExportTicket = Prisma.TicketGetPayload<{ include: typeof ticketInclude }>
type ExportAttachment = ExportTicket['attachments'][number]

interface ArchiveFile {
  path: string
  storageKey: string
  size: number
  mtime: Date
}

function attachmentPath(ticketNumber: number, a: Pick<ExportAttachment, 'id' | 'fileName'>) {
  const prefix = `${a.id}-`
  return `attachments/${ticketNumber}/${prefix}${archiveName(a.fileName, 100 - prefix.length)}`
}

/** The size of the file as it is on disk, or null when it is gone. */
async function sizeOnDisk(storageKey: string) {
  try {
    return (await stat(attachments().path(storageKey))).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

async function describeTicket(ticket: ExportTicket, files: ArchiveFile[]) {
  const described = new Map<string, unknown>()
  for (const a of ticket.attachments) {
    const size = await sizeOnDisk(a.storageKey)
    const path = size === null ? null : attachmentPath(ticket.number, a)
    if (path !== null && size !== null) files.push({ path, storageKey: a.storageKey, size, mtime: a.createdAt })
    described.set(a.id, { id: a.id, fileName: a.fileName, contentType: a.contentType, size: a.size, sha256: a.sha256, createdAt: a.createdAt, file: path })
  }
  const onMessage = (messageId: string | null) => ticket.attachments.filter((a) => a.messageId === messageId).map((a) => described.get(a.id))
  return {
    number: ticket.number,
    id: ticket.id,
    subject: ticket.subject,
    status: ticket.status,
    category: ticket.category,
    priority: ticket.priority,
    channel: ticket.channel,
    language: ticket.language,
    tags: ticket.tags,
    tool: ticket.instance ? { instanceId: ticket.instance.id, recipe: ticket.instance.recipeId } : null,
    requester: { name: ticket.requesterName, email: ticket.requesterEmail },
    assignee: ticket.assignee?.name ?? null,
    group: ticket.group?.name ?? null,
    createdAt: ticket.createdAt,
    firstResponseDueAt: ticket.firstResponseDueAt,
    firstResponseAt: ticket.firstResponseAt,
    resolutionDueAt: ticket.resolutionDueAt,
    pendingUntil: ticket.pendingUntil,
    resolvedAt: ticket.resolvedAt,
    closedAt: ticket.closedAt,
    satisfaction: ticket.satisfactionAt ? { rating: ticket.satisfactionRating, comment: ticket.satisfactionComment, at: ticket.satisfactionAt } : null,
    // Internal notes are included: what the helpdesk wrote about the organisation and its people is theirs to see.
    messages: ticket.messages.map((m) => ({
      id: m.id,
      kind: m.kind,
      internal: m.kind === 'INTERNAL',
      channel: m.channel,
      author: { name: m.authorName, email: m.authorEmail, forHelpdesk: m.fromAgent },
      body: m.body,
      createdAt: m.createdAt,
      attachments: onMessage(m.id),
    })),
    otherAttachments: onMessage(null),
    history: ticket.events.map((e) => ({ type: e.type, by: e.actor?.name ?? null, data: e.data, at: e.createdAt })),
  }
}

async function* tarOf(organizationId: string): AsyncGenerator<Buffer> {
  const organization = await db().organization.findUniqueOrThrow({ where: { id: organizationId }, select: { id: true, slug: true, name: true } })
  // The ticket texts are held in memory to know tickets.json's size for its header; the files are streamed.
  const tickets: unknown[] = []
  const files: ArchiveFile[] = []
  let cursor: number | undefined
  for (;;) {
    const batch = await db().ticket.findMany({
      where: { organizationId, ...(cursor !== undefined ? { number: { gt: cursor } } : {}) },
      include: ticketInclude,
      orderBy: { number: 'asc' },
      take: 100,
    })
    for (const ticket of batch) tickets.push(await describeTicket(ticket, files))
    if (batch.length < 100) break
    cursor = batch.at(-1)?.number
  }
  const exportedAt = new Date()
  const json = Buffer.from(
    JSON.stringify({ format: 'commons-helpdesk-export/1', exportedAt, organisation: organization, tickets }, null, 2) + '\n',
    'utf8',
  )
  yield tarHeader('tickets.json', json.length, exportedAt)
  yield json
  yield padding(json.length)

  const store = attachments()
  for (const file of files) {
    yield tarHeader(file.path, file.size, file.mtime)
    // The header promised `size` bytes: a file that changed or vanished since is cut or filled, so the archive stays readable.
    let written = 0
    try {
      for await (const chunk of store.open(file.storageKey) as AsyncIterable<Buffer>) {
        const part = chunk.subarray(0, Math.max(0, file.size - written))
        written += part.length
        if (part.length) yield part
      }
    } catch (error) {
      logger.warn({ err: error, storageKey: file.storageKey }, 'an attachment could not be read for the export')
    }
    if (written < file.size) {
      logger.warn({ storageKey: file.storageKey, missingBytes: file.size - written }, 'an attachment was shorter than when the export began')
      yield Buffer.alloc(file.size - written, 0)
    }
    yield padding(file.size)
  }
  yield Buffer.alloc(BLOCK * 2, 0)
}

/**
 * Every ticket of the organisation as a tar archive: `tickets.json` (tickets,
 * public messages, internal notes marked `internal`, history, satisfaction,
 * attachment details) and `attachments/<number>/<id>-<name>` with the files.
 */
export function exportOrganisationTickets(organizationId: string): Readable {
  return Readable.from(tarOf(organizationId), { objectMode: false })
}

// ---------------------------------------------------------------------------
// Erasure

export interface PersonToErase {
  userId?: string
  email?: string
}

export interface ErasureCounts {
  /** Tickets they opened: requester name and address replaced. */
  tickets: number
  /** Their messages and notes: author removed, text kept. */
  messages: number
  /** Tickets whose subject, messages or search text named them. */
  mentions: number
  attachments: number
  watchers: number
  presences: number
  /** History lines no longer linked to them. */
  events: number
  /** Tickets that were assigned to them and now wait for someone else. */
  unassigned: number
  savedViews: number
  /** Helpdesk mail to their address in the outbox, sent or not. */
  mails: number
}

export interface ErasureResult {
  /** False when the helpdesk held nothing about the person; nothing was changed then. */
  found: boolean
  counts: ErasureCounts
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * What to look for in texts. Addresses always; a name only when it has at
 * least two words ("Jan de Vries"): replacing a single first name everywhere
 * would damage other people's tickets.
 */
function scrubberFor(emails: string[], names: string[]) {
  const patterns: RegExp[] = []
  const needles: string[] = []
  for (const email of emails) {
    patterns.push(new RegExp(`(?<![\\p{L}\\p{N}._%+-])${escapeRegExp(email)}(?![\\p{L}\\p{N}_-]|\\.[\\p{L}\\p{N}])`, 'giu'))
    needles.push(email)
  }
  for (const name of names) {
    const words = name.trim().split(/\s+/u)
    if (words.length < 2 || name.trim().length < 5) continue
    patterns.push(new RegExp(`(?<![\\p{L}\\p{N}])${words.map(escapeRegExp).join('\\s+')}(?![\\p{L}\\p{N}])`, 'giu'))
    // The longest word finds every text that may contain the name; the pattern then decides.
    needles.push(words.reduce((a, b) => (b.length > a.length ? b : a)))
  }
  const scrub = (text: string) => patterns.reduce((out, pattern) => out.replace(pattern, ERASED), text)
  return { scrub, needles: [...new Set(needles.map((n) => n.toLowerCase()))] }
}

const insensitive = (value: string) => ({ equals: value, mode: 'insensitive' as const })
const containing = (value: string) => ({ contains: value, mode: 'insensitive' as const })

/**
 * Removes a person from the helpdesk: a member by user id or e-mail address,
 * a guest by address. Tickets and messages stay (others need them), but no
 * longer say who the person was: requester and author are replaced, their
 * name and address are cut out of subjects, messages and the search index
 * of every ticket, their files and follow-ups are removed, the history keeps
 * what happened but not who did it. Their portal account is not touched
 * (that is Keycloak's and the platform's).
 */
export async function erasePerson(actor: Pick<Actor, 'userId'>, person: PersonToErase): Promise<ErasureResult> {
  const storageKeys: string[] = []
  const result = await db().$transaction(async (tx) => {
    const counts: ErasureCounts = { tickets: 0, messages: 0, mentions: 0, attachments: 0, watchers: 0, presences: 0, events: 0, unassigned: 0, savedViews: 0, mails: 0 }
    const user = person.userId
      ? await tx.user.findUnique({ where: { id: person.userId } })
      : person.email
        ? await tx.user.findFirst({ where: { email: insensitive(person.email.trim()) } })
        : null
    const emails = new Set<string>()
    const names = new Set<string>()
    if (person.email?.trim()) emails.add(person.email.trim().toLowerCase())
    if (user) {
      emails.add(user.email.toLowerCase())
      names.add(user.name)
    }
    if (!user && emails.size === 0) return { found: false, counts }
    const byEmail = (field: 'requesterEmail' | 'authorEmail') => [...emails].map((e) => ({ [field]: insensitive(e) }))

    const requested = await tx.ticket.findMany({
      where: { OR: [...(user ? [{ requesterId: user.id }] : []), ...byEmail('requesterEmail')] },
      select: { id: true, requesterName: true, requesterEmail: true },
    })
    const authored = await tx.ticketMessage.findMany({
      where: { OR: [...(user ? [{ authorId: user.id }] : []), ...byEmail('authorEmail')] },
      select: { id: true, authorName: true, authorEmail: true },
    })
    for (const t of requested) {
      emails.add(t.requesterEmail.toLowerCase())
      names.add(t.requesterName)
    }
    for (const m of authored) {
      if (m.authorEmail) emails.add(m.authorEmail.toLowerCase())
      names.add(m.authorName)
    }
    names.delete(ERASED)
    for (const e of emails) if (e.endsWith('.invalid')) emails.delete(e)

    for (const t of requested) {
      await tx.ticket.update({ where: { id: t.id }, data: { requesterName: ERASED, requesterEmail: erasedAddress(), requesterId: null } })
    }
    counts.tickets = requested.length

    const messageIds = authored.map((m) => m.id)
    if (messageIds.length) {
      const files = await tx.ticketAttachment.findMany({ where: { messageId: { in: messageIds } }, select: { storageKey: true } })
      storageKeys.push(...files.map((f) => f.storageKey))
      counts.attachments = (await tx.ticketAttachment.deleteMany({ where: { messageId: { in: messageIds } } })).count
      counts.messages = (await tx.ticketMessage.updateMany({ where: { id: { in: messageIds } }, data: { authorName: ERASED, authorEmail: null, authorId: null } })).count
    }

    if (user) {
      counts.watchers = (await tx.ticketWatcher.deleteMany({ where: { userId: user.id } })).count
      counts.presences = (await tx.ticketPresence.deleteMany({ where: { userId: user.id } })).count
      counts.events = (await tx.ticketEvent.updateMany({ where: { actorId: user.id }, data: { actorId: null } })).count
      counts.events += await forgetIdInHistory(tx, user.id)
      counts.unassigned = (await tx.ticket.updateMany({ where: { assigneeId: user.id }, data: { assigneeId: null } })).count
      counts.savedViews = (await tx.savedTicketView.deleteMany({ where: { ownerId: user.id } })).count
      await tx.cannedReply.updateMany({ where: { createdById: user.id }, data: { createdById: null } })
    }

    counts.mentions = await scrubTexts(tx, scrubberFor([...emails], [...names]))

    if (emails.size) {
      counts.mails = (
        await tx.outboxMail.deleteMany({ where: { replyTo: env().HELPDESK_ADDRESS, OR: [...emails].map((e) => ({ to: insensitive(e) })) } })
      ).count
      // The inbound mail ledger keeps only a hash of the sender (inbound.server.ts), the same hash as here.
      await tx.inboundMail.deleteMany({ where: { fromHash: { in: [...emails].map(personHash) } } })
    }

    const found = Object.values(counts).some((n) => n > 0)
    if (found) {
      const email = user?.email ?? person.email ?? ''
      await tx.auditEntry.create({
        data: {
          actorId: actor.userId,
          action: 'helpdesk.erase-person',
          targetType: 'person',
          targetId: personHash(email),
          data: { ...counts, member: Boolean(user) },
        },
      })
    }
    return { found, counts }
  }, TRANSACTION)
  await removeFiles(storageKeys)
  logger.info({ ...result.counts }, 'a person was erased from the helpdesk')
  return result
}

/** Cuts the person out of every ticket's subject, messages, satisfaction comment and search text; returns the tickets changed. */
async function scrubTexts(tx: Tx, { scrub, needles }: ReturnType<typeof scrubberFor>) {
  if (needles.length === 0) return 0
  const changed = new Set<string>()
  const tickets = await tx.ticket.findMany({
    where: { OR: needles.flatMap((n) => [{ subject: containing(n) }, { searchText: containing(n) }, { satisfactionComment: containing(n) }]) },
    select: { id: true, subject: true, searchText: true, satisfactionComment: true },
  })
  for (const t of tickets) {
    const data = { subject: scrub(t.subject), searchText: scrub(t.searchText), satisfactionComment: t.satisfactionComment === null ? null : scrub(t.satisfactionComment) }
    if (data.subject === t.subject && data.searchText === t.searchText && data.satisfactionComment === t.satisfactionComment) continue
    await tx.ticket.update({ where: { id: t.id }, data })
    changed.add(t.id)
  }
  const messages = await tx.ticketMessage.findMany({ where: { OR: needles.map((n) => ({ body: containing(n) })) }, select: { id: true, ticketId: true, body: true } })
  for (const m of messages) {
    const body = scrub(m.body)
    if (body === m.body) continue
    await tx.ticketMessage.update({ where: { id: m.id }, data: { body } })
    changed.add(m.ticketId)
  }
  // History lines may quote a mail's sender or subject in their details.
  const likes = needles.map((n) => `%${n.replace(/[\\%_]/g, '\\$&')}%`)
  const events = await tx.$queryRaw<{ id: string; ticketId: string; data: Prisma.JsonValue }[]>`
    SELECT id, "ticketId", data FROM "TicketEvent" WHERE data::text ILIKE ANY(${likes}::text[])`
  for (const e of events) {
    const data = mapStrings(e.data, scrub)
    if (JSON.stringify(data) === JSON.stringify(e.data)) continue
    await tx.ticketEvent.update({ where: { id: e.id }, data: { data: data ?? undefined } })
    changed.add(e.ticketId)
  }
  return changed.size
}

function mapStrings(value: Prisma.JsonValue, map: (text: string) => string): Prisma.JsonValue {
  if (typeof value === 'string') return map(value)
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, map))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v ?? null, map)]))
  return value
}

/** History lines about assignment name the person by id (from, to): those become null, the change itself stays. */
async function forgetIdInHistory(tx: Tx, userId: string) {
  const events = await tx.ticketEvent.findMany({
    where: { OR: [{ data: { path: ['from'], equals: userId } }, { data: { path: ['to'], equals: userId } }] },
    select: { id: true, data: true },
  })
  for (const e of events) {
    const data = { ...(e.data as Prisma.JsonObject) }
    if (data.from === userId) data.from = null
    if (data.to === userId) data.to = null
    await tx.ticketEvent.update({ where: { id: e.id }, data: { data } })
  }
  return events.length
}

async function removeFiles(storageKeys: string[]) {
  const store = attachments()
  for (const key of storageKeys) {
    try {
      await store.remove(key)
    } catch (error) {
      // The row is gone already; a file left behind is found by its key, never shown.
      logger.error({ err: error, storageKey: key }, 'an attachment file could not be removed')
    }
  }
}

// ---------------------------------------------------------------------------
// Retention

/**
 * Deletes closed tickets closed before `before`, with everything on them
 * (messages, notes, history, files). Safe to run in two processes at once:
 * each takes the rows it locked (SKIP LOCKED) and leaves the others'.
 * `where` narrows the tickets (tests share one database).
 */
export async function purgeClosedTickets(before: Date, where: Prisma.TicketWhereInput = {}): Promise<number> {
  let total = 0
  for (;;) {
    const candidates = await db().ticket.findMany({
      where: { AND: [where, { status: 'CLOSED', closedAt: { lt: before } }] },
      select: { id: true },
      orderBy: { closedAt: 'asc' },
      take: PURGE_BATCH,
    })
    if (candidates.length === 0) break
    const storageKeys: string[] = []
    const purged = await db().$transaction(async (tx) => {
      const ids = candidates.map((c) => c.id)
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM "Ticket"
        WHERE id = ANY(${ids}::text[]) AND status = 'CLOSED' AND "closedAt" < ${before}
        FOR UPDATE SKIP LOCKED`
      if (locked.length === 0) return 0
      const lockedIds = locked.map((l) => l.id)
      const files = await tx.ticketAttachment.findMany({ where: { ticketId: { in: lockedIds } }, select: { storageKey: true } })
      storageKeys.push(...files.map((f) => f.storageKey))
      const numbers = (await tx.ticket.findMany({ where: { id: { in: lockedIds } }, select: { number: true }, orderBy: { number: 'asc' } })).map((t) => t.number)
      const { count } = await tx.ticket.deleteMany({ where: { id: { in: lockedIds } } })
      // The numbers answer "what happened to #1234?" later; they say nothing about anyone.
      await tx.auditEntry.create({
        data: { actorId: null, action: 'helpdesk.purge', targetType: 'helpdesk', targetId: 'retention', data: { tickets: count, numbers, closedBefore: before.toISOString() } },
      })
      return count
    }, TRANSACTION)
    await removeFiles(storageKeys)
    total += purged
    // Another process holds the rest, or they changed meanwhile: leave them to it.
    if (purged === 0 || candidates.length < PURGE_BATCH) break
  }
  return total
}

/** Closed tickets older than this are purged: now minus HELPDESK_RETENTION_DAYS. */
export function retentionCutoff(now = new Date()) {
  return new Date(now.getTime() - env().HELPDESK_RETENTION_DAYS * 86_400_000)
}
