import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db, disconnectDb } from '../db.server'
import { markdownToText, renderMarkdown } from '../markdown.server'
import {
  CannedError,
  cannedReplies,
  cannedReply,
  createCannedReply,
  deleteCannedReply,
  escapeMarkdownText,
  fillCannedReply,
  updateCannedReply,
} from './canned.server'

// Real Postgres from the test harness; titles carry this run's suffix, so
// other files' canned replies never get in the way.

const unique = Date.now().toString(36)
let author: { id: string; name: string }

beforeAll(async () => {
  author = await db().user.create({
    data: { keycloakId: `test-canned-${unique}`, email: `agent-${unique}@canned.test`, name: `Agent ${unique}`, realmRoles: ['helpdesk-agent'] },
  })
})

afterAll(async () => {
  await db().cannedReply.deleteMany({ where: { title: { contains: unique } } })
  await db().user.deleteMany({ where: { email: { endsWith: '@canned.test', contains: unique } } })
  await disconnectDb()
})

describe('canned replies', () => {
  it('creates, lists, changes and deletes them; a title is unique per language', async () => {
    const title = `Password reset ${unique}`
    const nl = await createCannedReply(author.id, { title: `  ${title} `, language: 'nl', body: 'Hallo {{requester.firstName}},' })
    expect(nl).toMatchObject({ title, language: 'nl', body: 'Hallo {{requester.firstName}},', createdBy: { name: author.name } })
    // The same title in the other language is another reply.
    const en = await createCannedReply(null, { title, language: 'en', body: 'Hello {{requester.firstName}},' })
    await expect(createCannedReply(author.id, { title, language: 'nl', body: 'Again' })).rejects.toMatchObject({ key: 'canned.error.titleTaken', status: 409 })

    const mine = (await cannedReplies()).filter((r) => r.title.includes(unique))
    expect(mine.map((r) => [r.title, r.language])).toEqual([
      [title, 'en'],
      [title, 'nl'],
    ])
    expect((await cannedReplies('en')).filter((r) => r.title.includes(unique)).map((r) => r.id)).toEqual([en.id])

    const changed = await updateCannedReply(nl.id, { title: `${title} (new)`, language: 'nl', body: 'Beste {{requester.name}},' })
    expect(changed).toMatchObject({ id: nl.id, title: `${title} (new)`, body: 'Beste {{requester.name}},' })
    await expect(updateCannedReply(nl.id, { title, language: 'en', body: 'Clash' })).rejects.toMatchObject({ key: 'canned.error.titleTaken' })
    expect((await cannedReply(nl.id)).language).toBe('nl')

    await deleteCannedReply(nl.id)
    await expect(cannedReply(nl.id)).rejects.toBeInstanceOf(CannedError)
    await expect(deleteCannedReply(nl.id)).rejects.toMatchObject({ key: 'canned.error.notFound', status: 404 })
    await expect(updateCannedReply(nl.id, { title, language: 'nl', body: 'x' })).rejects.toMatchObject({ key: 'canned.error.notFound' })
    await deleteCannedReply(en.id)
  })

  it('refuses an empty title or body, an unknown language and a body that is too long', async () => {
    await expect(createCannedReply(author.id, { title: ' ', language: 'nl', body: 'x' })).rejects.toThrow('form.required')
    await expect(createCannedReply(author.id, { title: `T ${unique}`, language: 'de' as 'nl', body: 'x' })).rejects.toThrow('form.choice')
    await expect(createCannedReply(author.id, { title: `T ${unique}`, language: 'en', body: '   ' })).rejects.toThrow('form.required')
    await expect(createCannedReply(author.id, { title: `T ${unique}`, language: 'en', body: 'x'.repeat(20_001) })).rejects.toThrow('form.tooLong|max=20000')
    expect((await cannedReplies()).filter((r) => r.title.includes(unique))).toEqual([])
  })
})

describe('fillCannedReply', () => {
  const vars = {
    'requester.name': 'Ana de Vries',
    'ticket.number': 123,
    'ticket.subject': 'Calendar does not sync',
    'organisation.name': 'Green Bakery',
    'agent.name': 'Sam',
    'tool.name': 'Nextcloud',
  }

  it('fills in every variable, with spaces inside the braces too', () => {
    const body =
      'Hello {{requester.firstName}} ({{ requester.name }}),\n\nAbout #{{ticket.number}} “{{ticket.subject}}” for {{organisation.name}} in {{tool.name}}.\n\n{{agent.name}}'
    expect(fillCannedReply(body, vars)).toBe('Hello Ana (Ana de Vries),\n\nAbout #123 “Calendar does not sync” for Green Bakery in Nextcloud.\n\nSam')
  })

  it('keeps unknown variables, and known ones without a value, as they are written', () => {
    expect(fillCannedReply('Dear {{requester.nmae}}, {{ticket.number}} {{tool.name}} {{foo}}', { 'ticket.number': 7 })).toBe(
      'Dear {{requester.nmae}}, 7 {{tool.name}} {{foo}}',
    )
    // An empty value is a value.
    expect(fillCannedReply('[{{tool.name}}]', { 'tool.name': '' })).toBe('[]')
    // The first name given wins over the one taken from the full name.
    expect(fillCannedReply('{{requester.firstName}}', { 'requester.name': 'Ana de Vries', 'requester.firstName': 'Anneke' })).toBe('Anneke')
  })

  it('inserts values as text: Markdown in a name or subject does nothing', () => {
    const filled = fillCannedReply('Hi {{requester.name}},\n{{ticket.subject}}', {
      'requester.name': '*Ana* <b>x</b>',
      'ticket.subject': '# [click](https://evil.example) `code`\n- item',
    })
    expect(filled).toBe('Hi \\*Ana\\* \\<b\\>x\\</b\\>,\n\\# \\[click\\](https://evil.example) \\`code\\` - item')
    const html = renderMarkdown(filled)
    expect(html).not.toMatch(/<(em|strong|h1|code|li|b)\b/)
    // A bare address may still become a link (GFM does that for any text), but never one that hides where it goes.
    expect([...html.matchAll(/<a href="([^"]*)"[^>]*>([^<]*)<\/a>/g)].map((m) => [m[1], m[2]])).toEqual([['https://evil.example', 'https://evil.example']])
    expect(html).toContain('*Ana*')
    expect(markdownToText(filled)).toBe('Hi *Ana* <b>x</b>,\n# [click](https://evil.example) `code` - item')
  })

  it('escapes only what needs it', () => {
    expect(escapeMarkdownText('jan_de_vries')).toBe('jan_de_vries')
    expect(escapeMarkdownText('_jan_')).toBe('\\_jan\\_')
    expect(escapeMarkdownText('AT&T &amp; co')).toBe('AT&T \\&amp; co')
    expect(escapeMarkdownText('1. first')).toBe('1\\. first')
    expect(escapeMarkdownText('- not a list')).toBe('\\- not a list')
    expect(escapeMarkdownText('Bakkerij De Eik (Utrecht)!')).toBe('Bakkerij De Eik (Utrecht)!')
  })
})
