import { stat } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Prisma } from '~/generated/prisma/client'
import { action as privacyAction } from '~/routes/helpdesk.privacy'
import { loader as exportLoader } from '~/routes/organisations.$slug_.tickets-export'
import { db, disconnectDb } from '../db.server'
import { outbox } from '../email.server'
import { env } from '../env.server'
import { createSession } from '../session.server'
import { ERASED, erasePerson, exportOrganisationTickets, personHash, purgeClosedTickets, retentionCutoff } from './privacy.server'
import { attachments } from './settings.server'
import { addMessage, createTicket, SYSTEM, type Actor, type StoredAttachment } from './tickets.server'

// Real Postgres and ATTACHMENTS_DIR from the test harness. Names and
// addresses carry this run's suffix: an erasure scrubs them from every
// ticket in the (shared) database.

const unique = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const prefix = `priv-${unique}-`
const mine: Prisma.TicketWhereInput = { organization: { slug: { startsWith: prefix } } }
const DAY = 86_400_000
const startedAt = new Date()
let n = 0
const guestTickets: string[] = []
const purgedNumbers: number[] = []
const storedKeys: string[] = []
let operator: { id: string }

async function person(role: string, name = `Test ${role} ${unique}-${++n}`, realmRoles: string[] = []) {
  const tag = `${role}-${unique}-${++n}`
  const user = await db().user.create({ data: { keycloakId: `test-${tag}`, email: `${tag}@privacy.test`, name, locale: 'en', realmRoles } })
  const actor: Actor = { userId: user.id, name: user.name, email: user.email, agent: realmRoles.length > 0 }
  return { ...user, actor }
}

async function organisation(...members: { id: string; role?: 'ADMIN' | 'MEMBER' }[]) {
  const slug = `${prefix}${++n}`
  const org = await db().organization.create({ data: { slug, name: `Coop ${slug}`, description: 'Test', sector: 'energy', city: 'Utrecht' } })
  await db().membership.createMany({ data: members.map((m) => ({ userId: m.id, organizationId: org.id, role: m.role ?? 'MEMBER' })) })
  return org
}

async function cookieOf(user: { id: string; realmRoles: string[] }) {
  const { setCookie } = await createSession({ userId: user.id, keycloakSessionId: null, idToken: '', realmRoles: user.realmRoles, activeOrganizationId: null })
  return setCookie.split(';')[0]!
}

/** What a loader or action answered, thrown or returned. */
async function settle(run: () => Promise<unknown>): Promise<Response | unknown> {
  try {
    return await run()
  } catch (thrown) {
    if (thrown instanceof Response) return thrown
    throw thrown
  }
}

async function file(name: string, text: string): Promise<StoredAttachment> {
  const saved = await attachments().save({ fileName: name, declaredType: 'text/plain', data: Buffer.from(text) })
  storedKeys.push(saved.storageKey)
  return saved
}

function open(actor: Actor, organizationId: string | null, subject: string, body: string, files: StoredAttachment[] = []) {
  return createTicket(actor, {
    organizationId,
    subject,
    body,
    category: 'QUESTION',
    priority: 'NORMAL',
    requester: { userId: actor.userId, email: actor.email ?? '', name: actor.name, language: 'en' },
    attachments: files,
  })
}

const exists = (storageKey: string) =>
  stat(attachments().path(storageKey)).then(
    () => true,
    () => false,
  )

/** Reads a ustar archive back: name → bytes. */
async function untar(stream: Readable) {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  const tar = Buffer.concat(chunks)
  expect(tar.length % 512).toBe(0)
  const entries = new Map<string, Buffer>()
  let at = 0
  for (;;) {
    const header = tar.subarray(at, at + 512)
    if (header.every((b) => b === 0)) break
    const text = (from: number, length: number) => header.toString('ascii', from, from + length).replace(/\0.*$/s, '')
    expect(text(257, 6)).toBe('ustar')
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!
    expect(parseInt(text(148, 8), 8)).toBe(sum)
    const name = [text(345, 155), text(0, 100)].filter(Boolean).join('/')
    const size = parseInt(text(124, 12), 8)
    entries.set(name, tar.subarray(at + 512, at + 512 + size))
    at += 512 + Math.ceil(size / 512) * 512
  }
  return entries
}

beforeAll(async () => {
  operator = await person('operator', `Operator ${unique}`, ['platform-operator'])
})

afterAll(async () => {
  await db().ticket.deleteMany({ where: { OR: [mine, { id: { in: guestTickets } }] } })
  await db().organization.deleteMany({ where: { slug: { startsWith: prefix } } })
  await db().auditEntry.deleteMany({ where: { actorId: operator.id } })
  await db().auditEntry.deleteMany({ where: { action: 'helpdesk.purge', OR: purgedNumbers.map((number) => ({ data: { path: ['numbers'], array_contains: [number] } })) } })
  await db().auditEntry.deleteMany({ where: { action: 'helpdesk.export', createdAt: { gte: startedAt }, data: { path: ['slug'], string_starts_with: prefix } } })
  await db().outboxMail.deleteMany({ where: { to: { contains: unique } } })
  await db().user.deleteMany({ where: { email: { endsWith: '@privacy.test', contains: unique } } })
  for (const key of storedKeys) await attachments().remove(key)
  await outbox.stop()
  await disconnectDb()
})

describe('erasing a person', () => {
  it('scrubs them from their tickets and from other people’s, keeps the rest, and deletes their files', async () => {
    const jan = await person('jan', `Jan Wisbaar${unique}`)
    const piet = await person('piet', `Piet Blijft${unique}`)
    const agent = await person('agent', `Agent ${unique}`, ['helpdesk-agent'])
    const org = await organisation(jan, piet)

    const janFile = await file('screenshot.txt', 'what Jan saw')
    const own = await open(jan.actor, org.id, 'Cannot sign in', 'My account does not work.', [janFile])
    await db().ticketWatcher.upsert({ where: { ticketId_userId: { ticketId: own.id, userId: jan.id } }, create: { ticketId: own.id, userId: jan.id }, update: {} })

    const upper = jan.email.toUpperCase()
    const other = await open(piet.actor, org.id, `Access for ${jan.name}`, `Please give ${jan.name.toLowerCase()} (${upper}) access too.`)
    const pietFile = await file('piet.txt', 'what Piet saw')
    await addMessage(piet.actor, other.id, { body: 'Thanks in advance.', attachments: [pietFile] })
    const janFile2 = await file('jan.txt', 'Jan adds this')
    const janReply = await addMessage(jan.actor, other.id, { body: 'I need it for the minutes.', attachments: [janFile2] })
    await addMessage(agent.actor, other.id, { body: `Note: ${jan.name} called us at ${jan.email}.`, internal: true })
    await db().ticketPresence.create({ data: { ticketId: other.id, userId: jan.id } })
    const assigned = await db().ticketEvent.create({ data: { ticketId: other.id, type: 'assignee', data: { from: agent.id, to: jan.id } } })
    const quoted = await db().ticketEvent.create({ data: { ticketId: other.id, type: 'mail.refused', data: { note: { reason: `from ${upper}` } } } })

    const untouched = await open(piet.actor, org.id, 'Printer', 'The printer is slow.')
    const untouchedBefore = await db().ticket.findUniqueOrThrow({ where: { id: untouched.id }, include: { messages: true } })

    const result = await erasePerson({ userId: operator.id }, { email: upper })
    expect(result.found).toBe(true)
    expect(result.counts).toMatchObject({ tickets: 1, messages: 2, attachments: 2, watchers: 1, presences: 1 })
    expect(result.counts.mentions).toBeGreaterThanOrEqual(1)

    const ownAfter = await db().ticket.findUniqueOrThrow({ where: { id: own.id }, include: { messages: true, attachments: true, watchers: true } })
    expect(ownAfter.requesterName).toBe(ERASED)
    expect(ownAfter.requesterId).toBeNull()
    expect(ownAfter.requesterEmail).toMatch(/^erased-[0-9a-f]+@erased\.invalid$/)
    expect(ownAfter.messages[0]).toMatchObject({ authorName: ERASED, authorEmail: null, authorId: null, body: 'My account does not work.' })
    expect(ownAfter.attachments).toHaveLength(0)
    expect(ownAfter.watchers).toHaveLength(0)
    expect(await exists(janFile.storageKey)).toBe(false)

    const otherAfter = await db().ticket.findUniqueOrThrow({ where: { id: other.id }, include: { messages: { orderBy: { createdAt: 'asc' } }, attachments: true, presences: true } })
    expect(otherAfter.subject).toBe(`Access for ${ERASED}`)
    expect(otherAfter.requesterName).toBe(piet.name)
    expect(otherAfter.presences).toHaveLength(0)
    for (const text of [otherAfter.subject, otherAfter.searchText, ...otherAfter.messages.map((m) => m.body)]) {
      expect(text.toLowerCase()).not.toContain(jan.email.toLowerCase())
      expect(text.toLowerCase()).not.toContain(jan.name.toLowerCase())
    }
    expect(otherAfter.searchText).toContain('Thanks in advance.')
    expect(otherAfter.messages.map((m) => m.body)).toEqual([
      `Please give ${ERASED} (${ERASED}) access too.`,
      'Thanks in advance.',
      'I need it for the minutes.',
      `Note: ${ERASED} called us at ${ERASED}.`,
    ])
    expect(otherAfter.messages.find((m) => m.id === janReply.id)).toMatchObject({ authorName: ERASED, authorEmail: null, authorId: null })
    expect(otherAfter.messages.filter((m) => m.authorId === piet.id)).toHaveLength(2)
    // Piet's file stays, Jan's goes.
    expect(otherAfter.attachments.map((a) => a.storageKey)).toEqual([pietFile.storageKey])
    expect(await exists(pietFile.storageKey)).toBe(true)
    expect(await exists(janFile2.storageKey)).toBe(false)
    // The history keeps what Jan did, not that it was Jan.
    expect(await db().ticketEvent.count({ where: { actorId: jan.id } })).toBe(0)
    expect(await db().ticketEvent.count({ where: { ticketId: own.id, type: 'created' } })).toBe(1)
    expect((await db().ticketEvent.findUniqueOrThrow({ where: { id: assigned.id } })).data).toEqual({ from: agent.id, to: null })
    expect((await db().ticketEvent.findUniqueOrThrow({ where: { id: quoted.id } })).data).toEqual({ note: { reason: `from ${ERASED}` } })

    expect(await db().ticket.findUniqueOrThrow({ where: { id: untouched.id }, include: { messages: true } })).toEqual(untouchedBefore)

    const audit = await db().auditEntry.findMany({ where: { actorId: operator.id, action: 'helpdesk.erase-person' } })
    expect(audit).toHaveLength(1)
    expect(audit[0]).toMatchObject({ targetType: 'person', targetId: personHash(jan.email) })
    const recorded = JSON.stringify(audit[0]).toLowerCase()
    expect(recorded).not.toContain(jan.email.toLowerCase())
    expect(recorded).not.toContain('wisbaar')
    expect(audit[0]!.data).toMatchObject({ tickets: 1, messages: 2 })
  })

  it('erases a guest known only by address', async () => {
    const email = `guest-${unique}@privacy.test`
    const guest: Actor = { userId: null, name: `Gast Persoon${unique}`, email, agent: false }
    const t = await open(guest, null, 'Question from outside', `Mail me at ${email}, ${guest.name}`)
    guestTickets.push(t.id)
    await addMessage(SYSTEM, t.id, { body: 'We will look into it.' })

    const result = await erasePerson({ userId: operator.id }, { email })
    expect(result).toMatchObject({ found: true, counts: { tickets: 1, messages: 1 } })
    const after = await db().ticket.findUniqueOrThrow({ where: { id: t.id }, include: { messages: { orderBy: { createdAt: 'asc' } } } })
    expect(after.requesterName).toBe(ERASED)
    expect(after.requesterEmail.endsWith('@erased.invalid')).toBe(true)
    expect(after.messages.map((m) => [m.authorName, m.body])).toEqual([
      [ERASED, `Mail me at ${ERASED}, ${ERASED}`],
      [SYSTEM.name, 'We will look into it.'],
    ])
    expect(after.searchText).not.toContain(email)
    // Mail to the guest in the outbox goes too: it held their address and their words.
    expect(await db().outboxMail.count({ where: { to: email } })).toBe(0)
  })

  it('changes nothing for an address the helpdesk does not know', async () => {
    const before = await db().auditEntry.count()
    const result = await erasePerson({ userId: operator.id }, { email: `nobody-${unique}@privacy.test` })
    expect(result.found).toBe(false)
    expect(Object.values(result.counts).every((c) => c === 0)).toBe(true)
    expect(await db().auditEntry.count()).toBe(before)
  })
})

describe('exporting an organisation’s tickets', () => {
  it('streams a tar with its tickets, notes and files, and nothing of another organisation', async () => {
    const member = await person('member')
    const stranger = await person('stranger')
    const agent = await person('agent', `Agent ${unique}`, ['helpdesk-agent'])
    const org = await organisation(member)
    const elsewhere = await organisation(stranger)

    const bytes = 'line one\nline two — ü\n'.repeat(200)
    const attached = await file('Verslag van de vergadering.txt', bytes)
    const first = await open(member.actor, org.id, 'Files are gone', 'Since yesterday.', [attached])
    await addMessage(agent.actor, first.id, { body: 'Checked the backups.', internal: true })
    await addMessage(agent.actor, first.id, { body: 'We restored them.' })
    const second = await open(member.actor, org.id, 'Second question', 'Another thing.')
    const foreign = await open(stranger.actor, elsewhere.id, 'Not theirs', 'Private to the other coop.')

    const entries = await untar(exportOrganisationTickets(org.id))
    const json = JSON.parse(entries.get('tickets.json')!.toString('utf8'))
    expect(json.organisation.id).toBe(org.id)
    expect(json.tickets.map((t: { number: number }) => t.number)).toEqual([first.number, second.number])
    expect(JSON.stringify(json)).not.toContain('Not theirs')
    expect(json.tickets.some((t: { number: number }) => t.number === foreign.number)).toBe(false)

    const exported = json.tickets[0]
    expect(exported.requester).toEqual({ name: member.name, email: member.email })
    expect(exported.messages.map((m: { body: string; internal: boolean }) => [m.body, m.internal])).toEqual([
      ['Since yesterday.', false],
      ['Checked the backups.', true],
      ['We restored them.', false],
    ])
    expect(exported.history.map((h: { type: string }) => h.type)).toEqual(expect.arrayContaining(['created', 'note', 'reply']))
    const meta = exported.messages[0].attachments[0]
    expect(meta).toMatchObject({ fileName: attached.fileName, size: attached.size, sha256: attached.sha256 })
    expect(meta.file).toMatch(new RegExp(`^attachments/${first.number}/[a-z0-9]+-Verslag_van_de_vergadering\\.txt$`))
    expect(entries.get(meta.file)!.toString('utf8')).toBe(bytes)
    expect([...entries.keys()].filter((k) => k.startsWith('attachments/'))).toEqual([meta.file])
  })
})

describe('purging closed tickets', () => {
  it('deletes tickets closed before the date, with their files, and keeps recent and open ones', async () => {
    const member = await person('member')
    const org = await organisation(member)
    const longAgo = new Date(retentionCutoff().getTime() - DAY)
    const oldFile = await file('old.txt', 'old bytes')
    const old = await open(member.actor, org.id, 'Old and closed', 'Long ago.', [oldFile])
    await db().ticket.update({ where: { id: old.id }, data: { status: 'CLOSED', closedAt: longAgo } })
    const recentFile = await file('recent.txt', 'recent bytes')
    const recent = await open(member.actor, org.id, 'Recently closed', 'Last month.', [recentFile])
    await db().ticket.update({ where: { id: recent.id }, data: { status: 'CLOSED', closedAt: new Date(Date.now() - 30 * DAY) } })
    const stillOpen = await open(member.actor, org.id, 'Old but open', 'Never closed.')
    await db().ticket.update({ where: { id: stillOpen.id }, data: { createdAt: longAgo, status: 'OPEN' } })

    const cutoff = retentionCutoff()
    expect(env().HELPDESK_RETENTION_DAYS).toBeGreaterThan(30)
    purgedNumbers.push(old.number)
    const purged = await purgeClosedTickets(cutoff, mine)
    expect(purged).toBe(1)
    expect(await db().ticket.findUnique({ where: { id: old.id } })).toBeNull()
    expect(await db().ticketMessage.count({ where: { ticketId: old.id } })).toBe(0)
    expect(await exists(oldFile.storageKey)).toBe(false)
    expect(await db().ticket.findUnique({ where: { id: recent.id } })).not.toBeNull()
    expect(await exists(recentFile.storageKey)).toBe(true)
    expect(await db().ticket.findUnique({ where: { id: stillOpen.id } })).not.toBeNull()

    const audit = await db().auditEntry.findMany({ where: { action: 'helpdesk.purge', data: { path: ['numbers'], array_contains: [old.number] } } })
    expect(audit.map((a) => a.data)).toEqual([{ tickets: 1, numbers: [old.number], closedBefore: cutoff.toISOString() }])
    expect(await purgeClosedTickets(cutoff, mine)).toBe(0)
  })
})

describe('the export and privacy pages', () => {
  it('gives the export to the organisation’s admins and to platform operators only', async () => {
    const admin = await person('admin')
    const member = await person('member')
    const agent = await person('agent', `Agent ${unique}`, ['helpdesk-agent'])
    const outsider = await person('outsider')
    const org = await organisation({ id: admin.id, role: 'ADMIN' }, member)
    await open(member.actor, org.id, 'Exported by the admin', 'Body.')
    const call = async (user: { id: string; realmRoles: string[] }) => {
      const request = new Request(`http://portal.test/organisations/${org.slug}/tickets-export`, { headers: { Cookie: await cookieOf(user) } })
      return (await settle(() => exportLoader({ request, params: { slug: org.slug }, context: { cspNonce: '' } }))) as Response
    }

    const response = await call(admin)
    expect(response.status).toBe(200)
    expect(response.headers.get('Content-Type')).toBe('application/x-tar')
    expect(response.headers.get('Content-Disposition')).toBe(`attachment; filename="tickets-${org.slug}-${new Date().toISOString().slice(0, 10)}.tar"`)
    const body = Buffer.from(await response.arrayBuffer())
    expect(body.toString('utf8')).toContain('Exported by the admin')
    expect(await db().auditEntry.count({ where: { actorId: admin.id, action: 'helpdesk.export', targetId: org.id } })).toBe(1)

    const asOperator = await call({ id: operator.id, realmRoles: ['platform-operator'] })
    expect(asOperator.status).toBe(200)
    await asOperator.arrayBuffer()
    expect((await call(member)).status).toBe(403)
    expect((await call(agent)).status).toBe(403)
    expect((await call(outsider)).status).toBe(404)
  })

  it('lets only operators erase, asks for the confirmation, and says when nothing was found', async () => {
    const agent = await person('agent', `Agent ${unique}`, ['helpdesk-agent'])
    const post = async (user: { id: string; realmRoles: string[] }, fields: Record<string, string>) => {
      const request = new Request('http://portal.test/helpdesk/privacy', {
        method: 'POST',
        headers: { Cookie: await cookieOf(user), 'Accept-Language': 'en' },
        body: new URLSearchParams(fields),
      })
      return settle(() => privacyAction({ request, params: {}, context: { cspNonce: '' } }))
    }
    const unknown = `nobody-${unique}@privacy.test`
    expect(((await post(agent, { email: unknown, confirm: 'on' })) as Response).status).toBe(403)

    const operatorUser = { id: operator.id, realmRoles: ['platform-operator'] }
    const unconfirmed = (await post(operatorUser, { email: unknown })) as { init: { status: number } | null; data: { result: { error: Record<string, string[]> } } }
    expect(unconfirmed.init?.status).toBe(400)
    expect(unconfirmed.data.result.error.confirm).toEqual(['privacy.mustConfirm'])
    const invalid = (await post(operatorUser, { email: 'not an address', confirm: 'on' })) as { init: { status: number } | null }
    expect(invalid.init?.status).toBe(400)

    const nothing = (await post(operatorUser, { email: unknown, confirm: 'on' })) as { data: { notice: string; counts?: unknown } }
    expect(nothing.data.notice).toBe(`Nothing found for ${unknown}: the helpdesk holds no tickets, messages or mentions of this address, so nothing was changed.`)
    expect(nothing.data.counts).toBeUndefined()
  })
})
