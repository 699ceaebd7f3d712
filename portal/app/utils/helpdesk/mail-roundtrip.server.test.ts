import { createServer } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { simpleParser, type ParsedMail } from 'mailparser'
import nodemailer, { type SendMailOptions } from 'nodemailer'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Real SMTP both ways: the portal's outbox sends to an SMTP server started
// here (the members' mail provider), and the test answers over SMTP to the
// portal's own listener, with real MIME, threading headers and attachments.

async function freePort() {
  return new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

const received: ParsedMail[] = []
const provider = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => {
      void simpleParser(Buffer.concat(chunks)).then((mail) => {
        received.push(mail)
        callback()
      }, callback)
    })
  },
})
const providerPort = await freePort()
await new Promise<void>((resolve) => provider.listen(providerPort, '127.0.0.1', resolve))

const attachmentsDir = mkdtempSync(path.join(os.tmpdir(), 'helpdesk-mail-'))
process.env.SMTP_URL = `smtp://127.0.0.1:${providerPort}`
process.env.OUTBOX_POLL_MS = '100'
process.env.HELPDESK_ADDRESS = 'support@helpdesk.test'
process.env.ATTACHMENTS_DIR = attachmentsDir
const { db, disconnectDb } = await import('../db.server')
const { outbox } = await import('../email.server')
const { startInboundSmtp } = await import('./inbound-smtp.server')
const { isSupportAddress, receiveInboundMail } = await import('./inbound.server')
const { addMessage, createTicket, updateTicket } = await import('./tickets.server')

const unique = Date.now().toString(36)
let n = 0
const made = { users: [] as string[], orgs: [] as string[] }
let listener: Awaited<ReturnType<typeof startInboundSmtp>>
const logged: string[] = []

async function person(role: string, opts: { locale?: string; realmRoles?: string[] } = {}) {
  const tag = `${role}-${unique}-${++n}`
  const user = await db().user.create({
    data: { keycloakId: `test-${tag}`, email: `${tag}@members.test`, name: `Anna ${tag}`, locale: opts.locale ?? 'nl', realmRoles: opts.realmRoles ?? [] },
  })
  made.users.push(user.id)
  return user
}

async function organisation(members: { id: string }[]) {
  const slug = `mail-${unique}-${++n}`
  const org = await db().organization.create({ data: { slug, name: `Coop ${slug}`, description: 'Test', sector: 'food', city: 'Zwolle' } })
  made.orgs.push(org.id)
  await db().membership.createMany({ data: members.map((m) => ({ userId: m.id, organizationId: org.id, role: 'MEMBER' as const })) })
  return org
}

/** Waits for the next mail to `to` (matching the subject) that the outbox delivered to the provider. */
async function mailTo(to: string, subject: RegExp, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const index = received.findIndex((m) => [m.to].flat().some((a) => a?.value.some((v) => v.address === to)) && subject.test(m.subject ?? ''))
    if (index >= 0) return received.splice(index, 1)[0]!
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${subject} arrived`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Sends a mail to the portal's listener, as a member's mail program would. */
async function sendToPortal(mail: SendMailOptions) {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true })
  try {
    return await transport.sendMail({ to: 'support@helpdesk.test', ...mail })
  } finally {
    transport.close()
  }
}

async function until<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 100))
  }
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5f0000000049454e44ae426082', 'hex')

beforeAll(async () => {
  outbox.start()
  listener = await startInboundSmtp({
    host: '127.0.0.1',
    port: 0,
    acceptRecipient: isSupportAddress,
    maxBytes: 5 * 1024 * 1024,
    onMail: async (raw, envelope) => {
      await receiveInboundMail(raw, envelope)
    },
    log: { info: () => {}, warn: (o, m) => logged.push(m), error: (o, m) => logged.push(m) },
  })
})

afterAll(async () => {
  await listener?.stop()
  await outbox.stop()
  const tickets = await db().ticket.findMany({ where: { organizationId: { in: made.orgs } }, select: { id: true } })
  await db().ticket.deleteMany({ where: { OR: [{ id: { in: tickets.map((t) => t.id) } }, { requesterEmail: { endsWith: '@strangers.test' } }] } })
  await db().organization.deleteMany({ where: { id: { in: made.orgs } } })
  await db().user.deleteMany({ where: { id: { in: made.users } } })
  await disconnectDb()
  await new Promise<void>((resolve) => provider.close(() => resolve()))
  rmSync(attachmentsDir, { recursive: true, force: true })
})

describe('helpdesk mail, both ways over SMTP', () => {
  it('mails the confirmation and the agent’s answer with the ticket number and threading ids; a mailed reply threads into the ticket with its attachment', async () => {
    const member = await person('member', { locale: 'en' })
    const agent = await person('agent', { realmRoles: ['helpdesk-agent'] })
    const org = await organisation([member])
    const ticket = await createTicket(
      { userId: member.id, name: member.name, email: member.email, agent: false },
      {
        organizationId: org.id,
        subject: 'Calendar does not sync',
        body: 'Since Monday my **calendar** stays empty.',
        category: 'TOOL_PROBLEM',
        priority: 'HIGH',
        requester: { userId: member.id, email: member.email, name: member.name, language: 'en' },
      },
    )
    const confirmation = await mailTo(member.email, new RegExp(`^\\[#${ticket.number}\\] Calendar does not sync$`))
    expect(confirmation.messageId).toMatch(new RegExp(`^<ticket-${ticket.number}\\.[0-9a-f-]+@helpdesk\\.test>$`))
    expect(confirmation.replyTo?.value[0]?.address).toBe('support@helpdesk.test')
    expect(confirmation.text).toContain('We received your request')
    expect(confirmation.text).toContain('Since Monday my calendar stays empty.')
    expect(confirmation.headers.get('auto-submitted')).toBe('auto-generated')

    await addMessage({ userId: agent.id, name: agent.name, email: agent.email, agent: true }, ticket.id, { body: 'Could you try signing out and in again?' })
    const answer = await mailTo(member.email, new RegExp(`^Re: \\[#${ticket.number}\\]`))
    expect(answer.text).toContain('Could you try signing out and in again?')
    expect(answer.headers.get('auto-submitted')).toBeUndefined()
    const root = `<ticket-${ticket.number}@helpdesk.test>`
    expect([answer.references].flat()).toContain(root)
    expect(answer.inReplyTo).toMatch(/^<ticket-/)

    // The member answers from their mail program: quoted history below, a text file attached.
    await sendToPortal({
      from: member.email,
      subject: `Re: ${answer.subject}`,
      inReplyTo: answer.messageId,
      references: [root, answer.messageId!],
      text: `Signing out did not help, see the log.\n\nOn Tue, 1 Dec 2026 at 10:00, Helpdesk <support@helpdesk.test> wrote:\n> Could you try signing out and in again?\n`,
      attachments: [{ filename: 'sync.log', content: 'sync failed: 403\n', contentType: 'text/plain' }],
    })
    const messages = await until(async () => {
      const rows = await db().ticketMessage.findMany({ where: { ticketId: ticket.id }, include: { attachments: true }, orderBy: { createdAt: 'asc' } })
      return rows.length === 3 ? rows : null
    })
    const mailed = messages[2]!
    expect(mailed.channel).toBe('EMAIL')
    expect(mailed.authorId).toBe(member.id)
    expect(mailed.body).toContain('Signing out did not help')
    expect(mailed.body).not.toContain('Could you try signing out')
    expect(mailed.attachments.map((a) => [a.fileName, a.size])).toEqual([['sync.log', 17]])
    expect((await db().ticket.findUniqueOrThrow({ where: { id: ticket.id } })).status).toBe('OPEN')
  })

  it('stores a message delivered twice once, and drops auto-replies and bounces without a ticket or reply', async () => {
    const member = await person('member')
    const org = await organisation([member])
    const messageId = `<twice-${unique}@members.test>`
    const before = await db().ticket.count({ where: { organizationId: org.id } })
    for (let i = 0; i < 2; i++) {
      await sendToPortal({ from: member.email, subject: 'Printer on the wiki page', messageId, text: 'The wiki shows no printer list.', attachments: [{ filename: 'screen.png', content: PNG }] })
    }
    const tickets = await until(async () => {
      const rows = await db().ticket.findMany({ where: { organizationId: org.id }, include: { attachments: true, messages: true } })
      return rows.length > before ? rows : null
    })
    expect(tickets).toHaveLength(1)
    expect(tickets[0]!.channel).toBe('EMAIL')
    expect(tickets[0]!.requesterId).toBe(member.id)
    expect(tickets[0]!.attachments.map((a) => a.contentType)).toEqual(['image/png'])
    expect(await db().inboundMail.count({ where: { messageId } })).toBe(1)
    await mailTo(member.email, new RegExp(`^\\[#${tickets[0]!.number}\\] Printer on the wiki page$`))

    await sendToPortal({
      from: member.email,
      subject: `Automatic reply: [#${tickets[0]!.number}] Printer on the wiki page`,
      headers: { 'Auto-Submitted': 'auto-replied' },
      text: 'I am out of the office until Monday.',
    })
    await sendToPortal({
      from: `MAILER-DAEMON@members.test`,
      envelope: { from: '', to: 'support@helpdesk.test' },
      subject: 'Undelivered Mail Returned to Sender',
      text: 'This is the mail system. Your message could not be delivered.',
      headers: { 'Content-Type': 'multipart/report; report-type=delivery-status; boundary="x"' },
    })
    await until(async () => (await db().inboundMail.count({ where: { outcome: { in: ['auto-reply', 'bounce'] }, receivedAt: { gt: tickets[0]!.createdAt } } })) >= 2)
    expect(await db().ticketMessage.count({ where: { ticketId: tickets[0]!.id } })).toBe(1)
    expect(await db().ticket.count({ where: { organizationId: org.id } })).toBe(1)
  })

  it('answers an unknown sender once a day and opens no ticket', async () => {
    const stranger = `stranger-${unique}@strangers.test`
    const before = await db().ticket.count()
    await sendToPortal({ from: stranger, subject: 'Can you host our website?', text: 'Hello, we are a new association.' })
    const refusal = await mailTo(stranger, /^Re: Can you host our website\?$/)
    expect(refusal.headers.get('auto-submitted')).toBe('auto-replied')
    expect(refusal.text).toContain('could not find your address')
    await sendToPortal({ from: stranger, subject: 'Hello again', text: 'Did you get my mail?' })
    await until(async () => (await db().inboundMail.count({ where: { outcome: 'unknown-sender', fromDomain: 'strangers.test', receivedAt: { gt: refusal.date ?? new Date(0) } } })) >= 1)
    await new Promise((r) => setTimeout(r, 700))
    expect(received.filter((m) => m.subject === 'Re: Hello again')).toHaveLength(0)
    expect(await db().ticket.count()).toBe(before)
  })

  it('does not let a ticket number in the subject open another organisation’s ticket, and turns a reply to a closed ticket into a new one', async () => {
    const a = await person('a')
    const b = await person('b')
    const orgA = await organisation([a])
    const orgB = await organisation([b])
    const actorA = { userId: a.id, name: a.name, email: a.email, agent: false }
    const ticketA = await createTicket(actorA, {
      organizationId: orgA.id,
      subject: 'Our own matter',
      body: 'Private to A.',
      category: 'QUESTION',
      priority: 'LOW',
      requester: { userId: a.id, email: a.email, name: a.name, language: 'nl' },
    })
    await sendToPortal({ from: b.email, subject: `Re: [#${ticketA.number}] Our own matter`, text: 'Let me in.' })
    const forged = await until(() => db().ticket.findFirst({ where: { organizationId: orgB.id } }))
    expect(forged.id).not.toBe(ticketA.id)
    expect(await db().ticketMessage.count({ where: { ticketId: ticketA.id } })).toBe(1)

    await updateTicket(actorA, ticketA.id, { status: 'CLOSED' })
    const confirmation = await mailTo(a.email, new RegExp(`^\\[#${ticketA.number}\\]`))
    await sendToPortal({ from: a.email, subject: `Re: ${confirmation.subject}`, inReplyTo: confirmation.messageId, text: 'One more thing.' })
    const followUp = await until(() => db().ticket.findFirst({ where: { organizationId: orgA.id, id: { not: ticketA.id } }, include: { events: true } }))
    expect(followUp.events.find((e) => e.type === 'created')?.data).toMatchObject({ note: { followUpOf: ticketA.number } })
    const notice = await mailTo(a.email, /^Re: Re: /)
    expect(notice.text).toContain(`#${followUp.number}`)
    expect(await db().ticketMessage.count({ where: { ticketId: ticketA.id } })).toBe(1)
  })

  it('keeps a mail whose attachment is refused, saying so on the ticket, and survives malformed MIME', async () => {
    const member = await person('member')
    const org = await organisation([member])
    await sendToPortal({
      from: member.email,
      subject: 'Script attached',
      text: 'See the attached page.',
      attachments: [{ filename: 'page.png', content: '<html><script>alert(1)</script></html>', contentType: 'image/png' }],
    })
    const ticket = await until(() => db().ticket.findFirst({ where: { organizationId: org.id }, include: { messages: true, attachments: true } }))
    expect(ticket.attachments).toHaveLength(0)
    expect(ticket.messages[0]!.body).toContain('page.png: not kept (file type not accepted)')

    // A multipart mail without its boundary and a stray NUL: parsed as far as it goes, nobody crashes.
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true })
    await transport.sendMail({
      envelope: { from: member.email, to: 'support@helpdesk.test' },
      raw: `From: ${member.email}\r\nTo: support@helpdesk.test\r\nSubject: broken\r\nMessage-ID: <broken-${unique}@members.test>\r\nContent-Type: multipart/mixed\r\n\r\n--\u0000garbage\r\n`,
    })
    transport.close()
    const broken = await until(() => db().inboundMail.findUnique({ where: { messageId: `<broken-${unique}@members.test>` } }))
    expect(['created', 'malformed']).toContain(broken.outcome)
    expect(logged.filter((l) => /failed|error/i.test(l))).toEqual([])
  })
})
