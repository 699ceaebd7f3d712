/**
 * Canned replies: answers agents write once and insert into a ticket, with
 * the ticket's details filled in ({{requester.firstName}}, {{ticket.number}} …).
 * They belong to the whole helpdesk: every agent may use and change them.
 */
import { z } from 'zod'
import { Prisma } from '~/generated/prisma/client'
import { db } from '../db.server'
import { LANGUAGES } from '../i18n'
import { BODY_MAX } from './ticket-forms'

/** The variables a canned reply may use, in the order the form explains them. */
export const CANNED_VARIABLES = [
  'requester.name',
  'requester.firstName',
  'ticket.number',
  'ticket.subject',
  'organisation.name',
  'agent.name',
  'tool.name',
] as const
export type CannedVariable = (typeof CANNED_VARIABLES)[number]

export type CannedVars = Partial<Record<CannedVariable, string | number | null | undefined>>

export const cannedReplySchema = z.object({
  title: z
    .string({ error: 'form.required' })
    .trim()
    .min(1, 'form.required')
    .max(120, 'form.tooLong|max=120'),
  language: z.enum(LANGUAGES, { error: 'form.choice' }),
  body: z
    .string({ error: 'form.required' })
    .trim()
    .min(1, 'form.required')
    .max(BODY_MAX, `form.tooLong|max=${BODY_MAX}`),
})

export type CannedReplyInput = z.input<typeof cannedReplySchema>

export type CannedErrorKey = 'canned.error.notFound' | 'canned.error.titleTaken'

export class CannedError extends Error {
  constructor(
    readonly key: CannedErrorKey,
    readonly status = 409,
  ) {
    super(key)
    this.name = 'CannedError'
  }
}

const columns = { id: true, title: true, language: true, body: true, updatedAt: true, createdBy: { select: { name: true } } } as const

/** All canned replies, or those of one language, by title. */
export function cannedReplies(language?: string) {
  return db().cannedReply.findMany({
    where: language ? { language } : {},
    orderBy: [{ title: 'asc' }, { language: 'asc' }],
    select: columns,
  })
}

export async function cannedReply(id: string) {
  const reply = id.length <= 64 ? await db().cannedReply.findUnique({ where: { id }, select: columns }) : null
  if (!reply) throw new CannedError('canned.error.notFound', 404)
  return reply
}

function titleTaken(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002'
}

/** A new canned reply; the title is unique per language. Throws a ZodError for invalid input. */
export async function createCannedReply(authorId: string | null, input: CannedReplyInput) {
  const data = cannedReplySchema.parse(input)
  try {
    return await db().cannedReply.create({ data: { ...data, createdById: authorId }, select: columns })
  } catch (error) {
    if (titleTaken(error)) throw new CannedError('canned.error.titleTaken', 409)
    throw error
  }
}

export async function updateCannedReply(id: string, input: CannedReplyInput) {
  const data = cannedReplySchema.parse(input)
  await cannedReply(id)
  try {
    return await db().cannedReply.update({ where: { id }, data, select: columns })
  } catch (error) {
    if (titleTaken(error)) throw new CannedError('canned.error.titleTaken', 409)
    throw error
  }
}

export async function deleteCannedReply(id: string) {
  const { count } = await db().cannedReply.deleteMany({ where: { id } })
  if (count === 0) throw new CannedError('canned.error.notFound', 404)
}

// ---------------------------------------------------------------------------
// Filling in

/**
 * A value as literal Markdown text: a name like "Jan_de_Vries" or a subject
 * like "[urgent] *all* down" must not turn into emphasis, links or HTML, and
 * line breaks in it cannot start a heading or a list of their own.
 */
export function escapeMarkdownText(value: string): string {
  return (
    value
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/[\\`*[\]<>|~]/g, '\\$&')
      // An underscore inside a word ("jan_de_vries") is no emphasis; only the others need it.
      .replace(/_/g, (underscore, offset: number, text: string) =>
        /[\p{L}\p{N}]/u.test(text[offset - 1] ?? '') && /[\p{L}\p{N}]/u.test(text[offset + 1] ?? '') ? underscore : '\\_',
      )
      .replace(/&(?=#?\w+;)/g, '\\&')
      // At the start of a line these would begin a heading, a list or a rule.
      .replace(/^([#+=-])/, '\\$1')
      .replace(/^(\d+)([.)])/, '$1\\$2')
  )
}

const PLACEHOLDER = /\{\{\s*([A-Za-z]+\.[A-Za-z]+)\s*\}\}/g

/**
 * The body with its variables filled in. A variable this portal does not
 * know, or one without a value here (no tool linked, say), stays as it is
 * written, so the agent sees what still needs doing before sending; an
 * empty string is a value. `requester.firstName` follows from
 * `requester.name` when not given.
 */
export function fillCannedReply(body: string, vars: CannedVars | Record<string, string | number | null | undefined>): string {
  const values: Record<string, string | number | null | undefined> = { ...vars }
  if (values['requester.firstName'] == null && typeof values['requester.name'] === 'string') {
    values['requester.firstName'] = values['requester.name'].trim().split(/\s+/)[0]
  }
  return body.replace(PLACEHOLDER, (whole, name: string) => {
    if (!(CANNED_VARIABLES as readonly string[]).includes(name)) return whole
    const value = values[name]
    if (value === null || value === undefined) return whole
    return escapeMarkdownText(String(value))
  })
}
