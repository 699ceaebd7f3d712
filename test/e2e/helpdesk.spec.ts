import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { simpleParser, type ParsedMail } from 'mailparser'
import nodemailer from 'nodemailer'
import { axeViolations as violations, createOrganisation, forbidThirdPartyRequests, mailDir, newSignedInPage, portalConsoleErrors, portalOrigin, trackConsoleErrors } from './support'

// The helpdesk end to end: a member opens a ticket with a screenshot and
// answers the confirmation from their mail program (a real MIME mail to the
// portal's own SMTP listener); an agent finds it in the queue, takes it,
// writes an internal note and resolves it with a canned reply; the member
// rates the help through the one-use link in the mail. Then the bad input,
// and axe on every helpdesk page.

const unique = Date.now().toString(36)
const ADMIN = 'admin@demo.commons.local' // Anouk Admin: creates the organisation, so she is its member
const OUTSIDER = 'member@demo.commons.local' // Mo Member: a member of another organisation
const AGENT = 'agent@demo.commons.local' // Ahmed Agent, helpdesk-agent
const OPERATOR = 'operator@demo.commons.local' // Olga Operator, platform-operator
const SUPPORT = process.env.HELPDESK_ADDRESS ?? 'support@commons.test'

const org = { name: `Bakkerij ${unique}`, slug: `bakkerij-${unique}`, description: 'Bread for the neighbourhood, baked together.', city: 'Utrecht' }
const otherOrg = { name: `Buurtwerk ${unique}`, slug: `buurtwerk-${unique}`, description: 'Another organisation that must see nothing.', city: 'Zwolle' }

// The first ticket, shared by the member and agent tests (serial).
const subject = `Calendar sync fails ${unique}`
const firstBody = `Since Monday the shared calendar of the bakery does not sync to our phones (${unique}).`
const mailReply = `It happened again this morning; the sync log is attached (${unique}).`
const noteText = `Internal: requester has three phones, checking the sync server ${unique}`
const cannedTitle = `Calendar sync repaired ${unique}`
const ratingComment = `Quick and friendly help ${unique}`
const ticket = { id: '', number: 0, satisfactionLink: '' }

// The second ticket, from the bad-input test (closed, then reopened), used for the accessibility checks.
const secondSubject = `Invoices cannot be opened ${unique}`
const second = { id: '', number: 0 }

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')
const SYNC_LOG = `09:01:12 sync started\n09:01:13 CalDAV 401 Unauthorized (${unique})\n09:01:13 sync stopped\n`

test.describe.configure({ mode: 'serial' })
// A control that never turns up fails its step, instead of the whole test's time running out.
test.use({ actionTimeout: 15_000 })

test.beforeEach(({ context }) => trackConsoleErrors(context))
test.afterEach(() => {
  const errors = portalConsoleErrors.splice(0)
  expect(errors, 'console errors on portal pages').toEqual([])
})

// ---------------------------------------------------------------------------
// Helpers

const parsed = new Map<string, ParsedMail>()

/** Every mail the capture server received, oldest first. */
async function allMails(): Promise<ParsedMail[]> {
  const dir = mailDir()
  const mails: ParsedMail[] = []
  for (const file of readdirSync(dir).sort()) {
    let mail = parsed.get(file)
    if (!mail) {
      mail = await simpleParser(readFileSync(path.join(dir, file)))
      // A file younger than a second might still be being written: parse it again next time.
      if (Date.now() - statSync(path.join(dir, file)).mtimeMs > 1000) parsed.set(file, mail)
    }
    mails.push(mail)
  }
  return mails
}

const recipientsOf = (mail: ParsedMail) => [mail.to].flat().flatMap((a) => a?.value ?? []).map((a) => a.address?.toLowerCase())

/** Every mail the capture server received for `to`, oldest first. */
async function mailsTo(to: string): Promise<ParsedMail[]> {
  return (await allMails()).filter((mail) => recipientsOf(mail).includes(to.toLowerCase()))
}

/**
 * Waits for a mail to `to` that `matches` (nextMail in support.ts matches the
 * subject only, and a ticket's reply and resolution mails share theirs).
 */
async function mailWhere(to: string, what: string, matches: (mail: ParsedMail) => boolean, timeoutMs = 20_000): Promise<ParsedMail> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const mails = await mailsTo(to)
    const found = mails.find(matches)
    if (found) return found
    if (Date.now() > deadline) throw new Error(`no mail to ${to} with ${what} within ${timeoutMs} ms; subjects: ${mails.map((m) => m.subject).join(' | ')}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

const header = (mail: ParsedMail, name: string) => {
  const value = mail.headers.get(name)
  return Array.isArray(value) ? value.join(' ') : typeof value === 'string' ? value : ''
}
const replyToOf = (mail: ParsedMail) => mail.replyTo?.value.map((a) => a.address?.toLowerCase()) ?? []

/** Fills the new-ticket form (for our organisation, when the person has more than one). */
async function fillTicketForm(page: Page, values: { subject: string; body: string; category: string; priority: RegExp }) {
  const organisation = page.getByRole('main').getByLabel('Organisation', { exact: true })
  if (await organisation.count()) await organisation.selectOption({ label: org.name })
  await page.getByLabel('Subject').fill(values.subject)
  await page.getByLabel('What happens?').fill(values.body)
  await page.getByLabel('What is it about?').selectOption({ label: values.category })
  await page.getByRole('radio', { name: values.priority }).check()
}

const ticketIdFrom = (url: string) => /\/tickets\/([^/?#]+)/.exec(new URL(url).pathname)?.[1] ?? ''
const thread = (page: Page) => page.getByRole('list', { name: 'Messages' })
const messageWith = (page: Page, text: string) => thread(page).getByRole('listitem').filter({ hasText: text })

/** The bytes behind a link on the page, fetched with the page's session. */
async function download(page: Page, link: ReturnType<Page['getByRole']>) {
  const href = await link.getAttribute('href')
  expect(href, 'attachment link').toMatch(/^\/tickets\/[^/]+\/attachments\/[^/]+$/)
  const res = await page.request.get(href!)
  expect(res.status(), `GET ${href}`).toBe(200)
  return { href: href!, body: await res.body(), headers: res.headers() }
}

// ---------------------------------------------------------------------------

test('a member opens a ticket with a screenshot, answers the confirmation by mail, and nobody outside the organisation sees it', async ({ browser }) => {
  test.setTimeout(150_000)
  const member = await newSignedInPage(browser, ADMIN)
  const { page } = member
  const checkNoThirdParty = forbidThirdPartyRequests(member.context)
  await createOrganisation(page, org)

  // A real PNG from disk, as a person would pick it.
  const dir = mkdtempSync(path.join(tmpdir(), 'helpdesk-e2e-'))
  const screenshot = path.join(dir, 'screenshot.png')
  writeFileSync(screenshot, PNG)

  await page.goto('/tickets')
  await expect(page.getByRole('heading', { level: 1, name: 'Support' })).toBeVisible()
  await page.getByRole('link', { name: 'Open a ticket' }).click()
  await expect(page).toHaveURL('/tickets/new')
  await fillTicketForm(page, { subject, body: firstBody, category: 'A tool does not work', priority: /^High — several of us are held up/ })
  await page.getByLabel('Attachments (optional)').setInputFiles(screenshot)
  await page.getByRole('button', { name: 'Send ticket' }).click()

  await expect(page).toHaveURL(/\/tickets\/[^/?]+\?created=1$/)
  ticket.id = ticketIdFrom(page.url())
  const heading = page.getByRole('heading', { level: 1 })
  await expect(heading).toHaveText(new RegExp(`^#\\d+ ${subject}$`))
  ticket.number = Number(/^#(\d+)/.exec((await heading.textContent()) ?? '')?.[1])
  expect(ticket.number).toBeGreaterThan(0)
  await expect(page.getByRole('status')).toContainText(`Ticket #${ticket.number} is sent.`)
  await expect(page.getByText('High', { exact: true })).toBeVisible()
  await expect(messageWith(page, firstBody)).toHaveCount(1)
  const screenshotLink = messageWith(page, firstBody).getByRole('link', { name: 'screenshot.png' })
  await expect(screenshotLink).toBeVisible()
  const png = await download(page, screenshotLink)
  expect(png.headers['content-type']).toBe('image/png')
  expect(png.body.equals(PNG), 'the screenshot comes back byte for byte').toBe(true)

  await page.goto('/tickets')
  await expect(page.getByRole('link', { name: `#${ticket.number} ${subject}` })).toBeVisible()

  // The confirmation: threading headers, the support address to reply to, what was written.
  const confirmation = await mailWhere(ADMIN, `subject [#${ticket.number}]`, (m) => (m.subject ?? '').startsWith(`[#${ticket.number}] `))
  expect(confirmation.subject).toBe(`[#${ticket.number}] ${subject}`)
  expect(confirmation.messageId).toMatch(/^<.+@.+>$/)
  expect(replyToOf(confirmation)).toEqual([SUPPORT])
  expect(header(confirmation, 'references')).toMatch(new RegExp(`<ticket-${ticket.number}@`))
  expect(confirmation.text).toContain(`We received your request and gave it number #${ticket.number}.`)
  expect(confirmation.text).toContain(firstBody)
  expect(confirmation.text).toContain(`${portalOrigin}/tickets/${ticket.id}`)

  // The member answers from their mail program: new text on top, the quoted mail below, a log file attached.
  const quoted = (confirmation.text ?? '').trim().split('\n').map((line) => `> ${line}`).join('\n')
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: Number(process.env.HELPDESK_SMTP_PORT), secure: false, ignoreTLS: true })
  try {
    await transport.sendMail({
      from: `Anouk Admin <${ADMIN}>`,
      to: SUPPORT,
      subject: `Re: ${confirmation.subject}`,
      inReplyTo: confirmation.messageId,
      references: [header(confirmation, 'references'), confirmation.messageId ?? ''].join(' ').trim(),
      text: `${mailReply}\n\nOn ${new Date().toUTCString()}, Commons Portal <${SUPPORT}> wrote:\n${quoted}\n`,
      attachments: [{ filename: 'sync-log.txt', content: SYNC_LOG, contentType: 'text/plain; charset=utf-8' }],
    })
  } finally {
    transport.close()
  }

  // The listener answers 250 only once the mail is stored, so it is on the ticket now.
  await page.goto(`/tickets/${ticket.id}`)
  const byMail = messageWith(page, mailReply)
  await expect(byMail).toHaveCount(1)
  await expect(byMail).toContainText('by mail')
  await expect(byMail).not.toContainText('wrote:')
  await expect(byMail).not.toContainText('We received your request')
  // The quoted original is not repeated: the first message holds the only copy.
  await expect(thread(page).getByText(firstBody)).toHaveCount(1)
  const logLink = byMail.getByRole('link', { name: 'sync-log.txt' })
  await expect(logLink).toBeVisible()
  const log = await download(page, logLink)
  expect(log.body.toString('utf8')).toBe(SYNC_LOG)
  expect(log.headers['content-disposition']).toMatch(/^attachment/)
  checkNoThirdParty()
  await member.context.close()

  // A member of another organisation: the ticket, its attachments and its actions do not exist for them.
  const outsider = await newSignedInPage(browser, OUTSIDER)
  await createOrganisation(outsider.page, otherOrg)
  const res = await outsider.page.goto(`/tickets/${ticket.id}`)
  expect(res?.status()).toBe(404)
  await expect(outsider.page.getByText('We could not find that page, or you may not see it.')).toBeVisible()
  await expect(outsider.page.getByText(subject)).toHaveCount(0)
  for (const href of [png.href, log.href]) expect((await outsider.page.request.get(href)).status(), `outsider GET ${href}`).toBe(404)
  const forged = await outsider.page.request.post(`/tickets/${ticket.id}`, { form: { intent: 'reply', body: 'Let me in' }, headers: { Origin: portalOrigin } })
  expect(forged.status(), 'outsider reply').toBe(404)
  await outsider.page.goto('/tickets')
  await expect(outsider.page.getByRole('heading', { level: 1, name: 'Support' })).toBeVisible()
  await expect(outsider.page.getByText(subject)).toHaveCount(0)
  await outsider.context.close()
})

test('an agent finds the ticket, takes it, notes internally and resolves it with a canned reply; the member rates the help once', async ({ browser }) => {
  test.setTimeout(180_000)
  // The member reads Dutch (chosen on their profile); the ticket was opened in English. Mails follow the person.
  const member = await newSignedInPage(browser, ADMIN)
  const toDutch = await member.page.request.post('/settings/language', { form: { lang: 'nl' }, headers: { Origin: portalOrigin }, maxRedirects: 0 })
  expect(toDutch.status()).toBe(302)
  await member.context.clearCookies({ name: 'commons_lang' })

  try {
    const agent = await newSignedInPage(browser, AGENT)
    const { page } = agent
    const checkNoThirdParty = forbidThirdPartyRequests(agent.context)

    // The queue finds it by a word of the subject.
    await page.goto('/helpdesk')
    await page.getByLabel('Search', { exact: true }).fill(unique)
    await page.getByRole('button', { name: 'Show tickets' }).click()
    const row = page.getByRole('link', { name: new RegExp(`#${ticket.number}\\b.*${subject}`) })
    await expect(row).toBeVisible()
    await row.click()
    await expect(page).toHaveURL(`/tickets/${ticket.id}`)
    await expect(page.getByRole('heading', { level: 1, name: `#${ticket.number} ${subject}` })).toBeVisible()
    await expect(page.getByRole('heading', { name: `About ${org.name}` })).toBeVisible()
    await expect(page.getByText(`<${ADMIN}>`)).toBeVisible()

    // Another staff member opens it too: the agent is told.
    const operator = await newSignedInPage(browser, OPERATOR)
    await operator.page.goto(`/tickets/${ticket.id}`)
    await expect(operator.page.getByRole('heading', { level: 1, name: `#${ticket.number} ${subject}` })).toBeVisible()
    await page.reload()
    await expect(page.getByText('Olga Operator has this ticket open too.')).toBeVisible()
    await operator.context.close()

    const panel = page.getByRole('complementary', { name: 'Helpdesk' })
    await panel.getByRole('button', { name: 'Assign to me' }).click()
    await expect(page.getByRole('status').filter({ hasText: 'The ticket is yours now.' })).toBeVisible()
    await expect(panel.getByLabel('Assigned to').locator('option:checked')).toHaveText('Ahmed Agent')
    await expect(panel.getByRole('button', { name: 'Assign to me' })).toHaveCount(0)

    // An internal note looks different from a reply and stays inside the helpdesk.
    await page.getByLabel('Internal note (not sent to the requester)').check()
    await expect(page.getByLabel('Status after this reply')).toHaveCount(0)
    await page.getByRole('textbox', { name: 'Internal note', exact: true }).fill(noteText)
    await page.getByRole('button', { name: 'Save note' }).click()
    await expect(page.getByRole('status').filter({ hasText: 'The note is saved. It is only visible to the helpdesk.' })).toBeVisible()
    const note = messageWith(page, noteText)
    await expect(note).toHaveCount(1)
    await expect(note).toHaveClass(/\binternal\b/)
    await expect(note.getByText('Internal note', { exact: true })).toBeVisible()
    await expect(messageWith(page, mailReply)).not.toHaveClass(/\binternal\b/)

    // A canned reply with the ticket's details filled in.
    await page.goto('/helpdesk/canned')
    await expect(page.getByRole('heading', { level: 1, name: 'Canned replies' })).toBeVisible()
    const main = page.getByRole('main')
    await main.getByLabel('Title', { exact: true }).fill(cannedTitle)
    await main.getByLabel('Language', { exact: true }).selectOption('en')
    await main
      .getByLabel('Text', { exact: true })
      .fill('Hello {{requester.firstName}},\n\nThe calendar of {{organisation.name}} syncs again: ticket #{{ticket.number}} is solved.\n\nKind regards,\n{{agent.name}}')
    await main.getByRole('button', { name: 'Save canned reply' }).click()
    await expect(page.getByRole('status').filter({ hasText: `Canned reply “${cannedTitle}” is saved.` })).toBeVisible()
    await expect(main.getByRole('rowheader').filter({ hasText: cannedTitle })).toBeVisible()

    await page.goto(`/tickets/${ticket.id}`)
    await page.getByLabel('Insert a canned reply').selectOption({ label: `${cannedTitle} (en)` })
    const replyBox = page.getByLabel('Your reply')
    const filled = `Hello Anouk,\n\nThe calendar of ${org.name} syncs again: ticket #${ticket.number} is solved.\n\nKind regards,\nAhmed Agent`
    await expect(replyBox).toHaveValue(filled)
    await expect(replyBox).toBeFocused()
    await page.getByLabel('Status after this reply').selectOption('RESOLVED')
    await page.getByRole('button', { name: 'Send reply' }).click()
    await expect(page.getByRole('status').filter({ hasText: 'Your reply is sent.' })).toBeVisible()
    await expect(page.getByRole('definition').getByText('Resolved', { exact: true })).toBeVisible()
    // The panel shows the stored state too, so saving it next would not undo the reply's status.
    await expect(panel.getByLabel('Status', { exact: true }).locator('option:checked')).toHaveText('Resolved')
    await expect(panel.getByLabel('Assigned to').locator('option:checked')).toHaveText('Ahmed Agent')
    await expect(messageWith(page, 'syncs again')).toHaveClass(/\bfrom-agent\b/)

    // The member hears it by mail, in Dutch, threaded under the ticket; then gets the link to rate the help.
    const replyMail = await mailWhere(ADMIN, 'the agent’s reply', (m) => (m.text ?? '').includes('syncs again'))
    expect(replyMail.subject).toBe(`Re: [#${ticket.number}] ${subject}`)
    expect(replyMail.text).toContain('Ahmed Agent schreef:')
    expect(replyMail.text).toContain('Hello Anouk,')
    expect(replyMail.text).toContain(`Bekijk het hele ticket: ${portalOrigin}/tickets/${ticket.id}`)
    expect(replyToOf(replyMail)).toEqual([SUPPORT])
    expect(header(replyMail, 'references')).toContain(`<ticket-${ticket.number}@`)
    const resolution = await mailWhere(ADMIN, 'the satisfaction link', (m) => /\/satisfaction\//.test(m.text ?? '') && (m.subject ?? '').includes(`[#${ticket.number}]`))
    expect(resolution.subject).toMatch(new RegExp(`\\[#${ticket.number}\\]`))
    expect(resolution.text).toContain('Beoordeel onze hulp met één klik')
    ticket.satisfactionLink = /https?:\/\/\S+\/satisfaction\/[A-Za-z0-9_-]+/.exec(resolution.text ?? '')?.[0] ?? ''
    expect(ticket.satisfactionLink, 'satisfaction link in the mail').toMatch(new RegExp(`^${portalOrigin}/satisfaction/`))

    // The note never left the helpdesk: not in any mail, not on the member's page.
    const leaked = (await allMails()).filter((m) => `${m.subject} ${m.text} ${m.html || ''}`.includes(noteText)).map((m) => `${m.subject} → ${recipientsOf(m).join(', ')}`)
    expect(leaked, 'mails containing the internal note').toEqual([])
    await member.page.goto(`/tickets/${ticket.id}`)
    await expect(messageWith(member.page, 'syncs again')).toHaveCount(1)
    await expect(member.page.getByText(noteText)).toHaveCount(0)
    await expect(thread(member.page).getByText('Internal note')).toHaveCount(0)
    await expect(member.page.getByRole('button', { name: 'Reopen ticket' })).toBeVisible()
    await expect(member.page.getByRole('button', { name: 'It is solved' })).toHaveCount(0)

    // The link works without signing in, once.
    const guest = await browser.newContext()
    trackConsoleErrors(guest)
    const guestPage = await guest.newPage()
    await guestPage.goto(ticket.satisfactionLink)
    await expect(guestPage.getByRole('heading', { level: 1, name: 'How did we help you?' })).toBeVisible()
    await expect(guestPage.getByText(`Ticket #${ticket.number}, “${subject}”, is resolved.`)).toBeVisible()
    await expect(guestPage.getByRole('button', { name: 'Sign out' })).toHaveCount(0)
    await guestPage.getByRole('radio', { name: '4 — good' }).check()
    await guestPage.getByLabel('Anything you want to tell us (optional)').fill(ratingComment)
    await guestPage.getByRole('button', { name: 'Send rating' }).click()
    await expect(guestPage.getByRole('heading', { level: 1, name: 'Thank you' })).toBeVisible()
    await expect(guestPage.getByRole('status')).toContainText('Your rating is saved.')
    const again = await guestPage.goto(ticket.satisfactionLink)
    expect(again?.status()).toBe(410)
    await expect(guestPage.getByText('This link has been used already: the rating is in. Thank you!')).toBeVisible()
    await expect(guestPage.getByRole('button', { name: 'Send rating' })).toHaveCount(0)
    // A second rating posted straight to the link changes nothing.
    const replay = await guestPage.request.post(ticket.satisfactionLink, { form: { rating: '1', comment: 'overwritten' }, headers: { Origin: portalOrigin } })
    expect(replay.status()).toBe(410)
    await guest.close()

    await page.reload()
    await expect(page.getByRole('definition').filter({ hasText: '4 of 5' })).toHaveText(`4 of 5 — “${ratingComment}”`)
    // The member sees the rating, not the comment meant for the helpdesk.
    await member.page.reload()
    await expect(member.page.getByRole('definition').filter({ hasText: '4 of 5' })).toHaveText('4 of 5')
    await expect(member.page.getByText(ratingComment)).toHaveCount(0)
    checkNoThirdParty()
    await agent.context.close()
  } finally {
    const back = await member.page.request.post('/settings/language', { form: { lang: 'en' }, headers: { Origin: portalOrigin }, maxRedirects: 0 })
    expect(back.status()).toBe(302)
    await member.context.close()
  }
})

test('bad input: an empty form, a disguised file, a forged ticket id, a closed ticket', async ({ browser }) => {
  test.setTimeout(120_000)
  const { context, page } = await newSignedInPage(browser, ADMIN)
  await page.goto('/tickets')
  const listed = await page.getByRole('link', { name: /^#\d+ / }).count()

  // Nothing filled in: the browser says what is missing, and the server would refuse it too.
  await page.goto('/tickets/new')
  await page.getByRole('button', { name: 'Send ticket' }).click()
  await expect(page.getByLabel('Subject')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByLabel('What happens?')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByText('Please fill in this field.')).toHaveCount(2)
  await expect(page.getByText('Choose one of the options.')).toBeVisible()
  await expect(page).toHaveURL('/tickets/new')
  const organizationId = await page.locator('[name="organizationId"]').first().inputValue()
  const empty = await page.request.post('/tickets/new', { multipart: { organizationId, subject: '', body: '', category: '', priority: 'NORMAL' }, headers: { Origin: portalOrigin } })
  expect(empty.status(), 'empty form posted to the server').toBe(400)
  await page.goto('/tickets')
  await expect(page.getByRole('link', { name: /^#\d+ / })).toHaveCount(listed)

  // A web page dressed up as a screenshot, a program and a huge scan: refused, the typed text stays.
  const secondBody = `The PDF invoices from the accounting tool show an error (${unique}).`
  await page.goto('/tickets/new')
  await fillTicketForm(page, { subject: secondSubject, body: secondBody, category: 'A question about how something works', priority: /^Low — a question, no hurry/ })
  await page.getByLabel('Attachments (optional)').setInputFiles([
    { name: 'invoice.png', mimeType: 'image/png', buffer: Buffer.from('<html><body><script>alert(document.cookie)</script></body></html>') },
    { name: 'viewer.exe', mimeType: 'application/octet-stream', buffer: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(510, 0x90)]) },
    // A real PDF header, but 11 MB: over ATTACHMENT_MAX_MB (10).
    { name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(11 * 1024 * 1024, 0x20)]) },
  ])
  await page.getByRole('button', { name: 'Send ticket' }).click()
  const refusal = page.getByRole('alert')
  await expect(refusal).toContainText('Some files could not be attached, so nothing was sent yet. Your text is kept')
  await expect(refusal).toContainText('invoice.png: this type of file is not accepted')
  await expect(refusal).toContainText('viewer.exe: this type of file is not accepted')
  await expect(refusal).toContainText('scan.pdf: larger than 10 MB')
  await expect(page).toHaveURL('/tickets/new')
  await expect(page.getByLabel('Subject')).toHaveValue(secondSubject)
  await expect(page.getByLabel('What happens?')).toHaveValue(secondBody)
  await expect(page.getByLabel('What is it about?').locator('option:checked')).toHaveText('A question about how something works')
  await page.goto('/tickets')
  await expect(page.getByRole('link', { name: /^#\d+ / })).toHaveCount(listed)
  await expect(page.getByText(secondSubject)).toHaveCount(0)

  // Without the files it goes through.
  await page.goto('/tickets/new')
  await fillTicketForm(page, { subject: secondSubject, body: secondBody, category: 'A question about how something works', priority: /^Low — a question, no hurry/ })
  await page.getByRole('button', { name: 'Send ticket' }).click()
  await expect(page).toHaveURL(/\/tickets\/[^/?]+\?created=1$/)
  second.id = ticketIdFrom(page.url())
  second.number = Number(/^#(\d+)/.exec((await page.getByRole('heading', { level: 1 }).textContent()) ?? '')?.[1])
  expect(second.number).toBeGreaterThan(ticket.number)

  // A ticket id that does not exist.
  const forged = await page.goto('/tickets/doesnotexist')
  expect(forged?.status()).toBe(404)
  await expect(page.getByText('We could not find that page, or you may not see it.')).toBeVisible()
  expect((await page.request.get('/tickets/doesnotexist/attachments/nothing')).status()).toBe(404)

  // A closed ticket offers no reply, only the way back.
  await page.goto(`/tickets/${second.id}`)
  await page.getByRole('button', { name: 'Close ticket' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'The ticket is closed. Reopen it if you need us again.' })).toBeVisible()
  await expect(page.getByText('This ticket is closed. Reopen it to write again, or open a new ticket.')).toBeVisible()
  await expect(page.getByLabel('Your reply')).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Send reply' })).toHaveCount(0)
  const late = await page.request.post(`/tickets/${second.id}`, { form: { intent: 'reply', body: `Too late ${unique}` }, headers: { Origin: portalOrigin } })
  expect(late.status(), 'a reply posted to a closed ticket').toBe(409)
  await page.goto('/tickets?show=closed')
  await expect(page.getByRole('link', { name: `#${second.number} ${secondSubject}` })).toBeVisible()
  await page.goto(`/tickets/${second.id}`)
  await expect(page.getByText(`Too late ${unique}`)).toHaveCount(0)
  await page.getByRole('button', { name: 'Reopen ticket' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'The ticket is open again.' })).toBeVisible()
  await expect(page.getByLabel('Your reply')).toBeVisible()
  await context.close()
})

test('the helpdesk pages meet WCAG 2.2 AA as far as axe can tell', async ({ browser }) => {
  test.setTimeout(150_000)
  const member = await newSignedInPage(browser, ADMIN)
  const { page } = member
  await page.goto('/tickets')
  await expect(page.getByRole('link', { name: `#${second.number} ${secondSubject}` })).toBeVisible()
  expect(await violations(page), 'ticket list').toEqual([])
  await page.goto('/tickets/new')
  await page.getByRole('button', { name: 'Send ticket' }).click()
  await expect(page.getByText('Please fill in this field.').first()).toBeVisible()
  expect(await violations(page), 'new ticket form with errors').toEqual([])
  await page.goto(`/tickets/${ticket.id}`)
  await expect(messageWith(page, mailReply)).toHaveCount(1)
  expect(await violations(page), 'ticket page as member').toEqual([])

  // The member says the second ticket is solved: that sends a rating link too.
  await page.goto(`/tickets/${second.id}`)
  expect(await violations(page), 'open ticket page as member').toEqual([])
  await page.getByRole('button', { name: 'It is solved' }).click()
  await expect(page.getByRole('status').filter({ hasText: 'Good to hear it is solved.' })).toBeVisible()
  const resolution = await mailWhere(ADMIN, `the satisfaction link of #${second.number}`, (m) => /\/satisfaction\//.test(m.text ?? '') && (m.subject ?? '').includes(`[#${second.number}]`))
  const link = /https?:\/\/\S+\/satisfaction\/[A-Za-z0-9_-]+/.exec(resolution.text ?? '')?.[0] ?? ''
  expect(link).toBeTruthy()
  await member.context.close()

  const agent = await newSignedInPage(browser, AGENT)
  await agent.page.goto('/helpdesk')
  await expect(agent.page.getByRole('heading', { level: 1, name: 'Helpdesk queue' })).toBeVisible()
  expect(await violations(agent.page), 'helpdesk queue').toEqual([])
  await agent.page.goto(`/helpdesk?q=${encodeURIComponent(unique)}&view=all`)
  await expect(agent.page.getByRole('link', { name: new RegExp(`#${ticket.number}\\b`) })).toBeVisible()
  expect(await violations(agent.page), 'helpdesk queue with a search').toEqual([])
  await agent.page.goto('/helpdesk/canned')
  await expect(agent.page.getByRole('rowheader').filter({ hasText: cannedTitle })).toBeVisible()
  expect(await violations(agent.page), 'canned replies').toEqual([])
  await agent.page.goto(`/tickets/${ticket.id}`)
  await expect(messageWith(agent.page, noteText)).toHaveCount(1)
  expect(await violations(agent.page), 'ticket page as agent (note, rating, panel, context)').toEqual([])
  await agent.page.getByLabel('Internal note (not sent to the requester)').check()
  expect(await violations(agent.page), 'ticket page as agent writing a note').toEqual([])
  await agent.context.close()

  const guest = await browser.newContext()
  trackConsoleErrors(guest)
  const guestPage = await guest.newPage()
  await guestPage.goto(link)
  expect(await violations(guestPage), 'satisfaction form').toEqual([])
  await guestPage.getByRole('button', { name: 'Send rating' }).click()
  await expect(guestPage.getByText('Choose a rating from 1 to 5.')).toBeVisible()
  expect(await violations(guestPage), 'satisfaction form with an error').toEqual([])
  await guestPage.getByRole('radio', { name: '5 — very good' }).check()
  await guestPage.getByRole('button', { name: 'Send rating' }).click()
  await expect(guestPage.getByRole('heading', { level: 1, name: 'Thank you' })).toBeVisible()
  expect(await violations(guestPage), 'satisfaction thanks').toEqual([])
  await guestPage.goto(link)
  expect(await violations(guestPage), 'satisfaction link used').toEqual([])
  await guest.close()
})
