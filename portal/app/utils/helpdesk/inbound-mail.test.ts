import { simpleParser } from 'mailparser'
import MailComposer, { type MailComposerOptions } from 'nodemailer/lib/mail-composer'
import MimeNode from 'nodemailer/lib/mime-node'
import { describe, expect, it, vi } from 'vitest'
import {
  LOOP_HEADER,
  REPLY_ABOVE_MARKER,
  classifyInboundMail,
  readInboundMail,
  ticketMessageId,
  ticketNumberFromAddress,
  ticketNumberFromMessageIds,
  ticketNumberFromSubject,
} from './inbound-mail'

const DOMAIN = 'portal.coop.example'
const SUPPORT = 'support@coop.example'
const OWN = { ownAddresses: [SUPPORT, 'noreply@portal.coop.example'] }
const DATE = new Date('2024-03-04T10:00:00Z')

async function receive(raw: Buffer | string) {
  const parsed = await simpleParser(raw)
  return { parsed, mail: readInboundMail(parsed, { size: Buffer.byteLength(raw) }) }
}

async function compose(options: MailComposerOptions) {
  return new MailComposer({ date: DATE, to: SUPPORT, ...options }).compile().build()
}

async function classify(options: MailComposerOptions, opts: Partial<Parameters<typeof classifyInboundMail>[2]> = {}) {
  const { parsed, mail } = await receive(await compose(options))
  return classifyInboundMail(mail, parsed.headers, { ...OWN, ...opts })
}

/** Removes one header line from a built message, for headers MailComposer always sets. */
function withoutHeader(raw: Buffer, name: string) {
  const text = raw.toString('utf8')
  const end = text.indexOf('\r\n\r\n')
  const head = text
    .slice(0, end)
    .split('\r\n')
    .filter((line) => !line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .join('\r\n')
  return Buffer.from(head + text.slice(end), 'utf8')
}

describe('readInboundMail', () => {
  it('reads a reply with threading headers, addresses and an attachment', async () => {
    const pdf = Buffer.from('%PDF-1.4\n% factuur\n')
    const raw = await compose({
      from: 'Jan de Vries <Jan.de.Vries@Bakkerij.Example>',
      cc: ['Piet <PIET@bakkerij.example>', 'kas@bakkerij.example'],
      subject: 'Re: [#1234] Printer kapot',
      messageId: '<reply-1@bakkerij.example>',
      inReplyTo: '<ticket-1234.0b5c@portal.coop.example>',
      references: ['<first@bakkerij.example>', '<ticket-1234.0b5c@portal.coop.example>'],
      text: 'Hij doet het weer, bedankt!',
      attachments: [{ filename: 'factuur.pdf', content: pdf }],
    })
    const { mail } = await receive(raw)

    expect(mail.messageId).toBe('<reply-1@bakkerij.example>')
    expect(mail.from).toEqual({ address: 'jan.de.vries@bakkerij.example', name: 'Jan de Vries' })
    expect(mail.to).toEqual([SUPPORT])
    expect(mail.cc).toEqual(['piet@bakkerij.example', 'kas@bakkerij.example'])
    expect(mail.subject).toBe('Re: [#1234] Printer kapot')
    expect(mail.inReplyTo).toEqual(['<ticket-1234.0b5c@portal.coop.example>'])
    expect(mail.references).toEqual(['<first@bakkerij.example>', '<ticket-1234.0b5c@portal.coop.example>'])
    expect(mail.date?.toISOString()).toBe(DATE.toISOString())
    expect(mail.replyText).toBe('Hij doet het weer, bedankt!')
    expect(mail.size).toBe(raw.length)
    expect(mail.attachments).toHaveLength(1)
    expect(mail.attachments[0]).toMatchObject({ fileName: 'factuur.pdf', contentType: 'application/pdf', size: pdf.length })
    expect(mail.attachments[0]?.content.equals(pdf)).toBe(true)
  })

  it('gives a single References id as an array too', async () => {
    const { parsed, mail } = await receive(
      await compose({ from: 'a@b.example', subject: 'x', text: 'y', references: '<only@b.example>' }),
    )
    expect(typeof parsed.references).toBe('string')
    expect(mail.references).toEqual(['<only@b.example>'])
  })

  it('pulls the ids out of an In-Reply-To with a comment', async () => {
    const raw = await compose({
      from: 'a@b.example',
      subject: 'x',
      text: 'y',
      headers: { 'In-Reply-To': { prepared: true, value: "<one@b.example> (Jan's message of Monday)" } },
    })
    const { mail } = await receive(raw)
    expect(mail.inReplyTo).toEqual(['<one@b.example>'])
  })

  it('turns an HTML-only mail into text and strips its quoted blockquote', async () => {
    const { mail } = await receive(
      await compose({
        from: 'a@b.example',
        subject: 'Alleen HTML',
        html: '<p>Hallo <b>daar</b>, de wifi werkt niet.</p><blockquote>Oud citaat van de helpdesk</blockquote>',
      }),
    )
    expect(mail.text).toContain('Hallo daar, de wifi werkt niet.')
    expect(mail.text).toContain('Oud citaat')
    expect(mail.replyText).toBe('Hallo daar, de wifi werkt niet.')
  })

  it('keeps real attachments but not a nameless image embedded in the HTML signature', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
    const { parsed, mail } = await receive(
      await compose({
        from: 'a@b.example',
        subject: 'Met logo',
        html: '<p>Zie bijlage</p><img src="cid:logo@sig">',
        attachments: [
          { cid: 'logo@sig', content: png, contentType: 'image/png', filename: false },
          { filename: 'offerte.txt', content: 'regel 1' },
        ],
      }),
    )
    expect(parsed.attachments).toHaveLength(2)
    expect(mail.attachments.map((a) => a.fileName)).toEqual(['offerte.txt'])
  })

  it('derives the same Message-ID for the same message delivered twice', async () => {
    const options = { from: 'a@b.example', subject: 'Zonder id', text: 'Geen Message-ID hier.' }
    const first = withoutHeader(await compose(options), 'Message-ID')
    // The second copy went through one more relay, so it is not byte-identical.
    const second = Buffer.concat([Buffer.from('Received: from relay2.example by mx.example\r\n'), first])
    const other = withoutHeader(await compose({ ...options, text: 'Een ander bericht.' }), 'Message-ID')

    const a = (await receive(first)).mail
    const b = (await receive(second)).mail
    const c = (await receive(other)).mail
    expect(first.toString()).not.toMatch(/^Message-ID:/im)
    expect(a.messageId).toMatch(/^<derived-[0-9a-f]{40}@inbound\.invalid>$/)
    expect(b.messageId).toBe(a.messageId)
    expect(c.messageId).not.toBe(a.messageId)
  })

  it('derives the same Message-ID even when the Date header cannot be parsed', async () => {
    // mailparser puts the current time in place of an unreadable date.
    const raw = 'From: a@b.example\r\nDate: gisteren rond de middag\r\nSubject: Vaag\r\n\r\nTekst\r\n'
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(new Date('2024-03-04T10:00:00Z'))
      const first = (await receive(raw)).mail
      vi.setSystemTime(new Date('2024-03-05T10:00:00Z'))
      const second = (await receive(raw)).mail
      expect(first.date?.toISOString()).not.toBe(second.date?.toISOString())
      expect(second.messageId).toBe(first.messageId)
    } finally {
      vi.useRealTimers()
    }
  })

  it('reads malformed MIME without throwing', async () => {
    const garbage = await receive(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x0a, 0x0d, 0x0a, 0xc3, 0x28]))
    expect(garbage.mail.from).toBeNull()
    expect(garbage.mail.subject).toBe('')
    expect(garbage.mail.messageId).toMatch(/^<derived-/)
    expect(garbage.mail.attachments).toEqual([])

    const noBoundary = await receive(
      'From: a@b.example\r\nSubject: Geen boundary\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhallo\r\n--x--\r\n',
    )
    expect(noBoundary.mail.subject).toBe('Geen boundary')
    expect(noBoundary.mail.from?.address).toBe('a@b.example')
    expect(noBoundary.mail.date).toBeNull()
    expect(noBoundary.mail.messageId).toMatch(/^<derived-/)

    const brokenBase64 = await receive(
      'From: a@b.example\r\nSubject: Kapot\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\ntekst\r\n--zz\r\nContent-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!niet base64***\r\n',
    )
    expect(brokenBase64.mail.replyText).toBe('tekst')
    expect(brokenBase64.mail.attachments.map((a) => a.fileName)).toEqual(['x.pdf'])
  })
})

describe('replyText', () => {
  async function replyOf(text: string) {
    return (await receive(await compose({ from: 'a@b.example', subject: 'Re: x', text }))).mail.replyText
  }

  it('cuts a Dutch "Op ... schreef ...:" reply', async () => {
    const text = [
      'Dat klopt, de printer doet het weer.',
      '',
      'Groet, Jan',
      '',
      'Op ma 4 mrt 2024 om 11:00 schreef Helpdesk Coop <support@coop.example>:',
      '> Kunt u de printer opnieuw opstarten?',
      '>',
      '> Met vriendelijke groet',
    ].join('\n')
    expect(await replyOf(text)).toBe('Dat klopt, de printer doet het weer.\n\nGroet, Jan')
  })

  it('cuts a Gmail attribution that wraps over two lines', async () => {
    const text = [
      'Thanks, solved.',
      '',
      'On Mon, 4 Mar 2024 at 11:00, Helpdesk Coop <',
      'support@coop.example> wrote:',
      '> Please restart it.',
    ].join('\n')
    expect(await replyOf(text)).toBe('Thanks, solved.')
  })

  it('cuts an Outlook reply at its header block and rule', async () => {
    const text = [
      'Helemaal goed zo.',
      '',
      '________________________________',
      'From: Helpdesk Coop <support@coop.example>',
      'Sent: Monday, March 4, 2024 11:00 AM',
      'To: Jan <jan@bakkerij.example>',
      'Subject: [#1234] Printer kapot',
      '',
      'Kunt u de printer opnieuw opstarten?',
    ].join('\n')
    expect(await replyOf(text)).toBe('Helemaal goed zo.')
  })

  it('cuts a Dutch Outlook "Van: ... Verzonden: ..." block and "-----Original Message-----"', async () => {
    expect(await replyOf('Prima.\n\nVan: Helpdesk <support@coop.example>\nVerzonden: maandag 4 maart 2024 11:00\nAan: Jan\n\nOud')).toBe(
      'Prima.',
    )
    expect(await replyOf('Ok.\n\n-----Original Message-----\nFrom: Helpdesk\nOld text')).toBe('Ok.')
    expect(await replyOf('Goed.\n\n-----Oorspronkelijk bericht-----\nOude tekst')).toBe('Goed.')
  })

  it('cuts at our own marker line, even when the client quoted it', async () => {
    expect(await replyOf(`Nieuwe vraag erbij.\n\n${REPLY_ABOVE_MARKER}\n\nTicket #1234 is bijgewerkt.`)).toBe('Nieuwe vraag erbij.')
    expect(await replyOf(`Nog een.\n\n> ${REPLY_ABOVE_MARKER}\n> Ticket #1234`)).toBe('Nog een.')
  })

  it('keeps the answers of an inline reply written below the attribution', async () => {
    const text = [
      'On Mon, 4 Mar 2024 at 11:00, Helpdesk <support@coop.example> wrote:',
      '> Welk model printer is het?',
      'Een HP LaserJet.',
      '> Staat hij aan?',
      'Ja.',
    ].join('\n')
    expect(await replyOf(text)).toBe('Een HP LaserJet.\nJa.')
  })

  it('leaves a mail without history as it is', async () => {
    expect(await replyOf('Regel een\n\nRegel twee\n-- \nJan')).toBe('Regel een\n\nRegel twee\n--\nJan')
  })
})

describe('classifyInboundMail', () => {
  const person = { from: 'Jan <jan@bakkerij.example>', subject: 'Re: [#1234] Printer kapot', text: 'Bedankt!' }

  it('lets an ordinary reply through as human', async () => {
    expect(await classify(person, { envelopeFrom: 'jan@bakkerij.example' })).toEqual({ kind: 'human' })
    expect(await classify({ ...person, headers: { 'Auto-Submitted': 'no' } })).toEqual({ kind: 'human' })
  })

  it('recognises an RFC 3834 auto-reply', async () => {
    const result = await classify({ ...person, subject: 'Re: vraag', headers: { 'Auto-Submitted': 'auto-replied' } })
    expect(result).toEqual({ kind: 'auto-reply', reason: 'Auto-Submitted: auto-replied' })
    expect((await classify({ ...person, headers: { 'Auto-Submitted': 'auto-generated; owner-email=x@y' } })).kind).toBe('auto-reply')
  })

  it('recognises an Outlook out-of-office', async () => {
    const result = await classify({
      ...person,
      subject: 'Automatisch antwoord: [#1234] Printer kapot',
      headers: { 'X-Auto-Response-Suppress': 'All' },
    })
    expect(result).toMatchObject({ kind: 'auto-reply', reason: 'X-Auto-Response-Suppress: All' })
    expect(await classify({ ...person, headers: { 'X-Auto-Response-Suppress': 'DR, RN' } })).toEqual({ kind: 'human' })
  })

  it('recognises an out-of-office by its subject alone', async () => {
    for (const subject of ['Out of Office: vraag', 'Automatic reply: vraag', 'Afwezig tot 12 maart', 'Niet aanwezig', 'Autoreply: x']) {
      expect(await classify({ ...person, subject })).toEqual({ kind: 'auto-reply', reason: 'out-of-office subject' })
    }
    expect(await classify({ ...person, subject: 'Afwezigheidsregeling voor de kas' })).toEqual({ kind: 'human' })
  })

  it('recognises X-Autoreply, X-Autorespond and Precedence', async () => {
    expect((await classify({ ...person, headers: { 'X-Autoreply': 'yes' } })).kind).toBe('auto-reply')
    expect((await classify({ ...person, headers: { 'X-Autorespond': 'Afwezig' } })).kind).toBe('auto-reply')
    expect(await classify({ ...person, headers: { Precedence: 'bulk' } })).toEqual({ kind: 'auto-reply', reason: 'Precedence: bulk' })
    expect(await classify({ ...person, headers: { 'X-Precedence': 'auto_reply' } })).toMatchObject({ kind: 'auto-reply' })
  })

  it('recognises a delivery-status bounce from MAILER-DAEMON', async () => {
    const report = new MimeNode('multipart/report; report-type=delivery-status')
    report.setHeader({
      From: 'Mail Delivery System <MAILER-DAEMON@mx.bakkerij.example>',
      To: SUPPORT,
      Subject: 'Undelivered Mail Returned to Sender',
      Date: DATE.toUTCString(),
      'Message-ID': '<bounce-1@mx.bakkerij.example>',
      'Auto-Submitted': 'auto-replied',
    })
    report.createChild('text/plain').setContent('I am sorry to have to inform you that your message could not be delivered.')
    report
      .createChild('message/delivery-status')
      .setContent('Reporting-MTA: dns; mx.bakkerij.example\r\n\r\nFinal-Recipient: rfc822; weg@bakkerij.example\r\nAction: failed\r\nStatus: 5.1.1\r\n')
    report.createChild('text/rfc822-headers').setContent(`Message-ID: ${ticketMessageId(1234, 'abc', DOMAIN)}\r\nSubject: [#1234] x\r\n`)
    const { parsed, mail } = await receive(await report.build())

    expect(parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/report' })
    expect(classifyInboundMail(mail, parsed.headers, OWN)).toEqual({ kind: 'bounce', reason: 'delivery status report' })
  })

  it('recognises a bounce by its sender or its null return path', async () => {
    expect(await classify({ ...person, from: 'MAILER-DAEMON@mx.example' })).toEqual({ kind: 'bounce', reason: 'sent by mailer-daemon' })
    expect(await classify({ ...person, from: 'Postmaster@mx.example' })).toMatchObject({ kind: 'bounce' })
    expect(await classify(person, { envelopeFrom: null })).toEqual({ kind: 'bounce', reason: 'null envelope sender' })
    expect(await classify({ ...person, headers: { 'Return-Path': '<>' } })).toEqual({ kind: 'bounce', reason: 'empty Return-Path' })
    expect(await classify({ ...person, headers: { 'Return-Path': '<jan@bakkerij.example>' } })).toEqual({ kind: 'human' })
  })

  it('recognises a mailing-list mail', async () => {
    const result = await classify({
      ...person,
      subject: '[coops] Nieuwsbrief maart',
      headers: { 'List-Id': 'Coops <coops.lists.example>', 'List-Unsubscribe': '<mailto:leave@lists.example>', Precedence: 'list' },
    })
    expect(result).toEqual({ kind: 'list', reason: 'List-Id header' })
    expect(await classify({ ...person, headers: { 'List-Unsubscribe': '<https://lists.example/leave>' } })).toEqual({
      kind: 'list',
      reason: 'List-Unsubscribe header',
    })
    expect(await classify({ ...person, headers: { Precedence: 'list' } })).toEqual({ kind: 'list', reason: 'Precedence: list' })
  })

  it('recognises a loop by our own header or our own sender address', async () => {
    expect(await classify({ ...person, headers: { [LOOP_HEADER]: DOMAIN } })).toEqual({
      kind: 'loop',
      reason: `${LOOP_HEADER}: ${DOMAIN}`,
    })
    expect(await classify({ ...person, from: 'Helpdesk <Support@Coop.Example>' })).toMatchObject({ kind: 'loop' })
    expect(await classify({ ...person, from: 'support+1234@coop.example' })).toMatchObject({ kind: 'loop' })
    expect(await classify({ ...person, from: 'support@andere-coop.example' })).toEqual({ kind: 'human' })
  })
})

describe('ticket numbers', () => {
  it('finds the ticket number in a subject', () => {
    expect(ticketNumberFromSubject('Re: [#1234] Printer kapot')).toBe(1234)
    expect(ticketNumberFromSubject('AW: [Ticket#1234] Drucker')).toBe(1234)
    expect(ticketNumberFromSubject('Fwd: Re: vraag [ticket #77]')).toBe(77)
    expect(ticketNumberFromSubject('Printer #1234 kapot')).toBeNull()
    expect(ticketNumberFromSubject('[#0] nul')).toBeNull()
    expect(ticketNumberFromSubject('[#abc]')).toBeNull()
  })

  it('finds the ticket number in a plus address', () => {
    expect(ticketNumberFromAddress('support+1234@coop.example', SUPPORT)).toBe(1234)
    expect(ticketNumberFromAddress('<SUPPORT+1234@COOP.EXAMPLE>', SUPPORT)).toBe(1234)
    expect(ticketNumberFromAddress(SUPPORT, SUPPORT)).toBeNull()
    expect(ticketNumberFromAddress('support+abc@coop.example', SUPPORT)).toBeNull()
    expect(ticketNumberFromAddress('other+1234@coop.example', SUPPORT)).toBeNull()
    expect(ticketNumberFromAddress('support+1234@other.example', SUPPORT)).toBeNull()
  })

  it('threads a reply by our own Message-ID even without a database match', async () => {
    const uuid = '3f2b8c1e-0d4a-4b8e-9a51-7c6d2e1f0a93'
    const id = ticketMessageId(1234, uuid, DOMAIN)
    expect(id).toBe(`<ticket-1234.${uuid}@${DOMAIN}>`)

    const { mail } = await receive(
      await compose({ from: 'jan@bakkerij.example', subject: 'Re: Printer', text: 'Nog steeds kapot', inReplyTo: id, references: ['<x@y.example>', id] }),
    )
    expect(ticketNumberFromMessageIds([...mail.inReplyTo, ...mail.references.toReversed()], DOMAIN)).toBe(1234)
    expect(ticketNumberFromMessageIds(mail.references, 'other.example')).toBeNull()
    expect(ticketNumberFromMessageIds(['<x@y.example>', `<ticket-99.${uuid}@${DOMAIN.toUpperCase()}>`], DOMAIN)).toBe(99)
    expect(ticketNumberFromMessageIds(['<ticket-abc.1@portal.coop.example>'], DOMAIN)).toBeNull()
    expect(ticketNumberFromMessageIds([`<ticket-55@${DOMAIN}>`], DOMAIN)).toBe(55)
    expect(ticketNumberFromMessageIds([`<ticket-55@evil.${DOMAIN}>`], DOMAIN)).toBeNull()
  })

  it('refuses to build an id from bad parts', () => {
    expect(() => ticketMessageId(0, 'abc', DOMAIN)).toThrow(/ticket number/)
    expect(() => ticketMessageId(1, 'a b', DOMAIN)).toThrow(/uuid/)
    expect(() => ticketMessageId(1, 'abc', 'evil>domain')).toThrow(/domain/)
    expect(ticketMessageId(7, 'abc', 'coöp.example')).toBe('<ticket-7.abc@coöp.example>')
  })
})
