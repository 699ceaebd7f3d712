import { z } from 'zod'

// The helpdesk's forms: one zod schema per form, used in the browser
// (Conform) and in the action. Messages are i18n keys, as in forms.ts.

export const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const
export const CATEGORIES = ['QUESTION', 'TOOL_PROBLEM', 'ACCESS', 'CHANGE', 'PRIVACY', 'OTHER'] as const
export const STATUSES = ['NEW', 'OPEN', 'PENDING', 'RESOLVED', 'CLOSED'] as const
export type Priority = (typeof PRIORITIES)[number]
export type Category = (typeof CATEGORIES)[number]
export type Status = (typeof STATUSES)[number]

/** Attachments per message; each file is limited by ATTACHMENT_MAX_MB. */
export const MAX_ATTACHMENTS = 5
export const BODY_MAX = 20_000

const text = (max: number) =>
  z
    .string({ error: 'form.required' })
    .trim()
    .min(1, 'form.required')
    .max(max, `form.tooLong|max=${max}`)

const rowId = z.string({ error: 'error.400' }).min(1, 'error.400').max(64, 'error.400')

export const newTicketSchema = z.object({
  organizationId: rowId,
  subject: text(150).pipe(z.string().min(4, 'form.tooShort|min=4')),
  body: text(BODY_MAX),
  category: z.enum(CATEGORIES, { error: 'form.choice' }),
  priority: z.enum(PRIORITIES, { error: 'ticket.form.priorityRequired' }),
  instanceId: z.string().max(64, 'error.400').optional(),
})

export const replySchema = z.object({
  intent: z.literal('reply'),
  body: text(BODY_MAX),
  // Agents only: an internal note instead of a public reply.
  internal: z.literal('on').optional(),
  // Agents only: the status the ticket gets with this reply.
  status: z.enum(['', 'OPEN', 'PENDING', 'RESOLVED'], { error: 'form.choice' }).optional(),
  pendingUntil: z.string().regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$/, 'ticket.form.date').optional(),
})

/** What a member may do besides replying. */
export const requesterActionSchema = z.object({
  intent: z.enum(['close', 'reopen', 'resolve'], { error: 'error.400' }),
})

export const agentUpdateSchema = z.object({
  intent: z.literal('update'),
  status: z.enum(STATUSES, { error: 'form.choice' }),
  pendingUntil: z.string().regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$/, 'ticket.form.date').optional(),
  priority: z.enum(PRIORITIES, { error: 'form.choice' }),
  category: z.enum(CATEGORIES, { error: 'form.choice' }),
  assigneeId: z.string().max(64, 'error.400').optional(),
  groupId: z.string().max(64, 'error.400').optional(),
  instanceId: z.string().max(64, 'error.400').optional(),
  tags: z.string().max(400, 'form.tooLong|max=400').optional(),
})

export const satisfactionSchema = z.object({
  rating: z.coerce.number({ error: 'satisfaction.ratingRequired' }).int('satisfaction.ratingRequired').min(1, 'satisfaction.ratingRequired').max(5, 'satisfaction.ratingRequired'),
  comment: z.string().trim().max(2000, 'form.tooLong|max=2000').optional(),
})

export const presenceSchema = z.object({ replying: z.enum(['true', 'false']).transform((v) => v === 'true') })

/** A date or date-time typed in the helpdesk's zone; the browser sends it without an offset. */
export function parseLocalDateTime(value: string, timeZone: string): Date {
  const [datePart, timePart = '09:00'] = value.split('T')
  const [y, m, d] = datePart!.split('-').map(Number) as [number, number, number]
  const [hh, mm] = timePart.split(':').map(Number) as [number, number]
  // Guess UTC, then correct by the zone's offset at that moment (twice, for DST edges).
  let guess = Date.UTC(y, m - 1, d, hh, mm)
  for (let i = 0; i < 2; i++) {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(guess))
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value)
    const shown = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'))
    guess += Date.UTC(y, m - 1, d, hh, mm) - shown
  }
  return new Date(guess)
}
